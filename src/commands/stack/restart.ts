import { up } from '../../stack/up.js';
import { plainUpEvents } from '../../ui/plain-progress.js';
import type { CommandContext } from '../context.js';
import { serviceArgs } from './service-list.js';

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  const services = serviceArgs(names, 'restart');
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
  if (ctx.json) {
    ctx.out.document(result);
    return;
  }
  ctx.out.result(
    result.started.length ? `Restarted ${result.started.map((s) => `${s.service} (${s.seconds.toFixed(1)}s)`).join(', ')}.` : 'Nothing was restarted.',
  );
}
