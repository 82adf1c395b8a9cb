import { up } from '../../stack/up.js';
import { plainUpEvents } from '../../ui/plain-progress.js';
import { type CommandContext, refuseOnContext } from '../context.js';
import { serviceArgs } from './service-list.js';

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  refuseOnContext(ctx, 'restart');
  const services = serviceArgs(names, 'restart');
  // The whole restart, as the user waits for it: stopping, starting, readiness and the tasks after it
  // (each `started[].seconds` is only its start up to ready).
  const begin = performance.now();
  const result = await up({
    restart: services,
    paths: ctx.stack,
    env: ctx.io.env,
    services,
    // The runtime the stack was created with.
    runtime: 'auto',
    waitTimeoutMs: 180_000,
    strictPorts: false,
    events: plainUpEvents(ctx.out),
  });
  const seconds = (performance.now() - begin) / 1000;
  if (ctx.json) {
    ctx.out.document({ ...result, seconds });
    return;
  }
  ctx.out.result(result.started.length ? `Restarted ${result.started.map((s) => s.service).join(', ')} in ${seconds.toFixed(1)}s.` : 'Nothing was restarted.');
}
