import ms from 'ms';
import type { Watermarks } from '../clients/kafka.js';
import { UsageError } from '../lib/errors.js';

export type StartSpec =
  | { kind: 'start' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'last'; count: bigint }
  | { kind: 'since'; timestampMs: number };

/** `2026-11-26T10:00:00Z`, epoch milliseconds, or a duration ago (`-15m`, `15m`, `2h`). */
export function parseSince(text: string, now: Date): number {
  const duration = /^-?(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w))$/i.exec(text.trim());
  if (duration) return now.getTime() - (ms(duration[1] as ms.StringValue) as number);
  if (/^\d{12,}$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(parsed)) return parsed;
  throw new UsageError(`--since "${text}" is neither a timestamp nor a duration.`, { hint: 'e.g. --since 2026-11-26T10:00:00Z or --since -15m' });
}

/** The start position asked for by --from-beginning, --offset or --since (at most one); undefined = the default. */
export function parseStart(flags: { fromBeginning?: unknown; offset?: unknown; since?: unknown }, now = new Date()): StartSpec | undefined {
  const given = [flags.fromBeginning === true && '--from-beginning', flags.offset !== undefined && '--offset', flags.since !== undefined && '--since'].filter(
    Boolean,
  );
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} cannot be combined; choose one start position.`);
  if (flags.fromBeginning === true) return { kind: 'start' };
  if (typeof flags.since === 'string') return { kind: 'since', timestampMs: parseSince(flags.since, now) };
  if (typeof flags.offset !== 'string') return undefined;
  const o = flags.offset.trim();
  if (o === 'start' || o === 'beginning' || o === 'earliest') return { kind: 'start' };
  if (o === 'end' || o === 'latest') return { kind: 'end' };
  if (/^-\d+$/.test(o)) return { kind: 'last', count: -BigInt(o) };
  if (/^\d+$/.test(o)) return { kind: 'offset', offset: BigInt(o) };
  throw new UsageError(`--offset "${o}" is not start, end, N or -N.`, { hint: '-N starts N records before the end of each partition.' });
}

const clamp = (v: bigint, low: bigint, high: bigint): bigint => (v < low ? low : v > high ? high : v);

/** Pure: the first offset of one partition, within its watermarks. */
function startOf(spec: StartSpec, { partition, low, high }: Watermarks, byTime?: Map<number, bigint>): bigint {
  switch (spec.kind) {
    case 'start':
      return low;
    case 'end':
      return high;
    case 'offset':
      return clamp(spec.offset, low, high);
    case 'last':
      return clamp(high - spec.count, low, high);
    case 'since': {
      const at = byTime?.get(partition);
      return at === undefined || at < 0n ? high : clamp(at, low, high);
    }
  }
}

/** Pure: the first offset to read in each partition. `byTime` holds the offsets of a --since lookup. */
export function startPositions(spec: StartSpec, watermarks: Watermarks[], byTime?: Map<number, bigint>): Map<number, bigint> {
  return new Map(watermarks.map((w) => [w.partition, startOf(spec, w, byTime)]));
}
