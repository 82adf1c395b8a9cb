import { processIdentity } from '../../stack/process.js';
import { updateState, withStackLock } from '../../stack/state.js';
import type { CommandContext } from '../context.js';

/**
 * Under `up` (--managed) the runtime records the service; a server started by hand records itself
 * in the state file (so commands find its URL) and returns the function that forgets it again.
 */
export async function recordForegroundServer(ctx: CommandContext, service: 'tracking' | 'auditing', host: string, url: string): Promise<() => Promise<void>> {
  if (typeof ctx.flags.managed === 'string') return async () => undefined;
  await withStackLock(ctx.stack, {}, () => updateState(ctx.stack, (s) => {
    // Started by hand, this process may not lead its own process group: stop it by pid only.
    s.services[service] = { pid: process.pid, startId: processIdentity(process.pid), group: false, host, port: Number(new URL(url).port), startedAt: new Date().toISOString() };
    s.endpoints[service] = url;
  }));
  return async () => {
    await withStackLock(ctx.stack, {}, () => updateState(ctx.stack, (s) => {
      delete s.services[service];
      delete s.endpoints[service];
    })).catch(() => undefined);
  };
}
