import { type DownResult, down } from '../../stack/lifecycle.js';
import { type CommandContext, refuseOnContext } from '../context.js';

export default async function run(ctx: CommandContext): Promise<void> {
  refuseOnContext(ctx, 'down');
  const volumes = ctx.flags.volumes === true;
  const result = await down(ctx.stack, {
    volumes,
    onStop: (r) => ctx.out.info(`  ${r.service}: ${r.result === 'stale' ? 'was not running (stale state cleaned)' : r.result}`),
  });
  if (ctx.json) {
    ctx.out.document({ stack: ctx.stack.name, ...result });
    return;
  }
  if (result.recovered) {
    ctx.out.result(`Stack "${ctx.stack.name}": ${recoveredParts(ctx.stack.name, result.recovered).join('; ')}.`);
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

/** What `down` did with a state file it could not read, for people. */
function recoveredParts(stack: string, r: NonNullable<DownResult['recovered']>): string[] {
  const running = r.stopped.filter((s) => s.result !== 'stale').map((s) => s.id);
  const removed = r.stopped.filter((s) => s.result === 'stale').map((s) => s.id);
  const runtime = r.runtime ? `its runtime (${r.runtime})` : 'no runtime';
  return [
    `its state file could not be read: kept as ${r.keptAs}`,
    running.length ? `stopped what ran for it (${running.join(', ')})` : 'nothing ran for it',
    ...(removed.length ? [`removed what had stopped (${removed.join(', ')})`] : []),
    'kept its data',
    r.secrets.length
      ? `a new state file keeps ${runtime} and secrets (${r.secrets.join(', ')})`
      : `a new state file keeps ${runtime}; no secret could be read from the old one`,
    `\`outboxctl${stack === 'default' ? '' : ` --stack ${stack}`} up\` starts it again`,
  ];
}
