import type { ServiceName } from './components/types.js';
import type { StackPaths } from './paths.js';
import { loadRuntime, type Runtime } from './runtimes/index.js';
import { readState } from './state.js';

export interface ServiceLog {
  service: ServiceName;
  lines: string[];
}

/** The runtime that runs (or last ran) each service of the stack. */
async function runtimesFor(paths: StackPaths, names: ServiceName[]): Promise<Runtime[]> {
  const state = await readState(paths).catch(() => undefined);
  return Promise.all(names.map((n) => loadRuntime(state?.services[n]?.runtime ?? state?.runtime ?? 'native')));
}

/**
 * The last `tail` lines of each service's log through its runtime; a service that never wrote a
 * log is left out unless `named` (asked for by name: it shows as empty).
 */
export async function serviceLogs(paths: StackPaths, names: ServiceName[], options: { tail?: number; named: boolean }): Promise<ServiceLog[]> {
  const runtimes = await runtimesFor(paths, names);
  const logs: ServiceLog[] = [];
  for (const [i, service] of names.entries()) {
    const lines = await runtimes[i]!.logs(paths, service, { tail: options.tail });
    if (lines || options.named) logs.push({ service, lines: lines ?? [] });
  }
  return logs;
}

/** The last `tail` lines of each service, then its lines as they are written, interleaved, until the signal aborts. */
export async function followServiceLogs(
  paths: StackPaths,
  names: ServiceName[],
  options: { tail?: number; signal?: AbortSignal; onLine: (service: ServiceName, line: string) => void },
): Promise<void> {
  const runtimes = await runtimesFor(paths, names);
  await Promise.all(
    names.map((service, i) =>
      runtimes[i]!.followLogs(paths, service, { tail: options.tail, signal: options.signal, onLine: (line) => options.onLine(service, line) }),
    ),
  );
}
