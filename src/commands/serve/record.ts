import { recordForegroundServer as record } from '../../stack/foreground.js';
import type { CommandContext } from '../context.js';

/**
 * Under `up` (--managed) the runtime records the service; a server started by hand records itself
 * in the state file (so commands find its URL) and returns the function that forgets it again.
 */
export async function recordForegroundServer(ctx: CommandContext, service: 'tracking' | 'auditing', host: string, url: string): Promise<() => Promise<void>> {
  if (typeof ctx.flags.managed === 'string') return async () => undefined;
  return record(ctx.stack, service, host, url);
}
