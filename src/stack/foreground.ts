import type { StackPaths } from './paths.js';
import { currentProcessState } from './runtimes/index.js';
import { updateState, withStackLock } from './state.js';

/**
 * A server started by hand (`outboxctl serve tracking` without `--managed`) records itself in the
 * state file, so commands find its URL; returns the function that forgets it again.
 */
export async function recordForegroundServer(paths: StackPaths, service: 'tracking' | 'auditing', host: string, url: string): Promise<() => Promise<void>> {
  const self = { ...(await currentProcessState()), host, ports: { main: Number(new URL(url).port) }, startedAt: new Date().toISOString() };
  await withStackLock(paths, {}, () =>
    updateState(paths, (s) => {
      s.services[service] = self;
      s.endpoints[service] = url;
    }),
  );
  return async () => {
    await withStackLock(paths, {}, () =>
      updateState(paths, (s) => {
        delete s.services[service];
        delete s.endpoints[service];
      }),
    ).catch(() => undefined);
  };
}
