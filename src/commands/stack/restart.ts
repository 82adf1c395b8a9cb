import { stopServices } from '../../stack/lifecycle.js';
import { up } from '../../stack/up.js';
import { withStackLock } from '../../stack/state.js';
import { plainUpEvents } from '../../ui/plain-progress.js';
import type { CommandContext } from '../context.js';
import { serviceArgs } from './service-list.js';

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  const services = serviceArgs(names, 'restart');
  await withStackLock(ctx.stack, {}, () => stopServices(ctx.stack, services, (r) => ctx.out.info(`  ${r.service}: ${r.result}`)));
  const result = await up({
    paths: ctx.stack,
    env: ctx.io.env,
    services,
    runtime: 'native',
    waitTimeoutMs: 180_000,
    strictPorts: false,
    host: '127.0.0.1',
    events: plainUpEvents(ctx.out),
  });
  if (ctx.json) {
    ctx.out.document(result);
    return;
  }
  ctx.out.result(`Restarted ${result.started.map((s) => `${s.service} (${s.seconds.toFixed(1)}s)`).join(', ')}.`);
}
