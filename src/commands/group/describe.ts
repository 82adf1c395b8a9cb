import { describeGroupLag } from '../../groups/lag.js';
import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

export default async function run(ctx: CommandContext, group: string): Promise<void> {
  const report = await withKafkaAdmin(ctx, (admin) => describeGroupLag(admin, group));
  const client = new Map(report.members.map((m) => [m.memberId, `${m.clientId}@${m.host}`]));
  ctx.out.print(report, () =>
    [
      `GROUP      ${report.group}`,
      `STATE      ${report.state}`,
      `MEMBERS    ${report.members.length}`,
      `TOTAL LAG  ${report.totalLag}`,
      '',
      renderTable(report.offsets, [
        { header: 'TOPIC', value: (o) => o.topic },
        { header: 'PARTITION', value: (o) => o.partition },
        { header: 'COMMITTED', value: (o) => o.committed ?? '-' },
        { header: 'END', value: (o) => o.end },
        { header: 'LAG', value: (o) => o.lag },
        { header: 'MEMBER', value: (o) => (o.memberId ? (client.get(o.memberId) ?? o.memberId) : '-') },
      ]),
    ].join('\n'),
  );
}
