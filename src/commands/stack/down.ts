import { down } from '../../stack/lifecycle.js';
import type { CommandContext } from '../context.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const volumes = ctx.flags.volumes === true;
  const result = await down(ctx.stack, {
    volumes,
    onStop: (r) => ctx.out.info(`  ${r.service}: ${r.result === 'stale' ? 'was not running (stale state cleaned)' : r.result}`),
  });
  if (ctx.json) {
    ctx.out.document({ stack: ctx.stack.name, ...result });
    return;
  }
  const stopped = result.stopped.filter((r) => r.result !== 'stale').map((r) => r.service);
  const stale = result.stopped.filter((r) => r.result === 'stale').map((r) => r.service);
  const parts = [
    ...(stopped.length === 0 ? ['nothing was running'] : [`stopped ${stopped.join(', ')}`]),
    ...(stale.length ? [`cleaned stale state of ${stale.join(', ')}`] : []),
    ...(result.droppedSlots.length ? [`dropped replication slot${result.droppedSlots.length > 1 ? 's' : ''} ${result.droppedSlots.join(', ')}`] : []),
    ...(volumes ? ['deleted its data'] : []),
  ];
  ctx.out.result(`Stack "${ctx.stack.name}": ${parts.join('; ')}.`);
}
