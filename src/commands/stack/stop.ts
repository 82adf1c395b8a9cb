import { stopServices } from '../../stack/lifecycle.js';
import { withStackLock } from '../../stack/state.js';
import { type CommandContext, refuseOnContext } from '../context.js';
import { serviceArgs } from './service-list.js';

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  refuseOnContext(ctx, 'stop');
  const services = serviceArgs(names, 'stop');
  const reports = await withStackLock(ctx.stack, {}, () => stopServices(ctx.stack, services));
  if (ctx.json) {
    ctx.out.document({ stack: ctx.stack.name, stopped: reports });
    return;
  }
  const stopped = reports.filter((r) => r.result !== 'stale').map((r) => r.service);
  const notRunning = services.filter((s) => !stopped.includes(s));
  ctx.out.result(
    [stopped.length ? `Stopped ${stopped.join(', ')}.` : '', notRunning.length ? `Not running: ${notRunning.join(', ')}.` : ''].filter(Boolean).join(' '),
  );
}
