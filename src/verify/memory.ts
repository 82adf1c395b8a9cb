import v8 from 'node:v8';
import vm from 'node:vm';
import { createLogger } from '../lib/logger.js';

const log = createLogger('verify');

let gc: (() => void) | null | undefined;

/** V8's full collection, made callable once (the `--expose-gc` flag set at run time); null where the engine refuses. */
function fullGc(): (() => void) | null {
  if (gc !== undefined) return gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    gc = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    gc = null;
  }
  return gc;
}

/**
 * Collects garbage every `every` items read. Verify's live data is its typed arrays and ~20 MiB of
 * heap, but each page (a 1 MB search response, a fetch of records, rows of PostgreSQL) is garbage
 * the moment it is read, and V8 lets such garbage pile up in the old generation as long as the
 * heap may grow: at a million events that alone took the process past 256 MiB. A full collection
 * per 100,000 items costs well under a second in all.
 */
export class Collector {
  private pending = 0;
  private readonly gc = fullGc();

  constructor(private readonly every = 100_000) {}

  /** Counts `n` items read; collects once enough have been. */
  read(n: number): void {
    this.pending += n;
    if (this.pending < this.every || !this.gc) return;
    this.pending = 0;
    this.gc();
  }
}

/** Memory as a phase leaves it (DEBUG=outboxctl:verify): typed arrays count as arrayBuffers. */
export function logMemory(phase: string): void {
  if (!log.enabled) return;
  const m = process.memoryUsage();
  const mib = (n: number) => Math.round(n / 2 ** 20);
  log(
    '%s: rss %d MiB (peak %d), heap %d MiB, arrayBuffers %d MiB',
    phase,
    mib(m.rss),
    Math.round(process.resourceUsage().maxRSS / 1024),
    mib(m.heapUsed),
    mib(m.arrayBuffers),
  );
}
