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
  const parts = [
    result.stopped.length === 0 ? 'nothing was running' : `stopped ${result.stopped.map((r) => r.service).join(', ')}`,
    ...(result.droppedSlots.length ? [`dropped replication slot${result.droppedSlots.length > 1 ? 's' : ''} ${result.droppedSlots.join(', ')}`] : []),
    ...(volumes ? ['deleted its data'] : []),
  ];
  ctx.out.result(`Stack "${ctx.stack.name}": ${parts.join('; ')}.`);
}
