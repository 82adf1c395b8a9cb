import { UserError } from '../../lib/errors.js';
import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

export default async function run(ctx: CommandContext, group: string): Promise<void> {
  const report = await withKafkaAdmin(ctx, async (admin) => {
    const detail = await admin.describeGroup(group);
    const committed = (await admin.committedOffsets(group)).filter((c) => c.offset >= 0n);
    if (detail.state === 'Dead' && committed.length === 0) {
      throw new UserError('GROUP_MISSING', `Consumer group "${group}" does not exist.`, { hint: 'See `outboxctl group list`.' });
    }
    const owner = new Map<string, string>();
    for (const m of detail.members) for (const [t, ps] of Object.entries(m.assignment)) for (const p of ps) owner.set(`${t}/${p}`, m.memberId);
    const topics = [...new Set([...committed.map((c) => c.topic), ...detail.members.flatMap((m) => Object.keys(m.assignment))])].sort();
    const offsets = [];
    for (const topic of topics) {
      const ends = await admin.watermarks(topic).catch(() => []);
      for (const w of ends) {
        const c = committed.find((x) => x.topic === topic && x.partition === w.partition)?.offset;
        offsets.push({
          topic,
          partition: w.partition,
          committed: c === undefined ? null : Number(c),
          end: Number(w.high),
          // Without a commit, the lag counts from the oldest record a reset would read.
          lag: Number(w.high - (c ?? w.low)),
          memberId: owner.get(`${topic}/${w.partition}`) ?? null,
        });
      }
    }
    return { group, state: detail.state, protocolType: detail.protocolType, protocol: detail.protocol, members: detail.members, offsets, totalLag: offsets.reduce((sum, o) => sum + o.lag, 0) };
  });
  if (ctx.json) {
    ctx.out.document(report);
    return;
  }
  const client = new Map(report.members.map((m) => [m.memberId, `${m.clientId}@${m.host}`]));
  ctx.out.result(
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
        { header: 'MEMBER', value: (o) => (o.memberId ? client.get(o.memberId) ?? o.memberId : '-') },
      ]),
    ].join('\n'),
  );
}
