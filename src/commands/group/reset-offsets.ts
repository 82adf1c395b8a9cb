import { parseResetTarget, resetOffsets } from '../../groups/reset-plan.js';
import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

export default async function run(ctx: CommandContext, group: string): Promise<void> {
  const target = parseResetTarget(ctx.flags);
  const topic = String(ctx.flags.topic);
  const execute = ctx.flags.execute === true;
  const plan = await withKafkaAdmin(ctx, (admin) => resetOffsets(admin, { group, topic, target, execute }));
  ctx.out.print({ group, topic, executed: execute, offsets: plan }, () =>
    renderTable(plan, [
      { header: 'TOPIC', value: (r) => r.topic },
      { header: 'PARTITION', value: (r) => r.partition },
      { header: 'CURRENT', value: (r) => r.current ?? '-' },
      { header: 'NEW', value: (r) => r.next },
    ]),
  );
  if (ctx.json) return;
  if (execute) ctx.out.success(`Moved the offsets of group ${group} on ${topic}.`);
  else ctx.out.info('Dry run: nothing changed. Pass --execute to move the offsets.');
}
