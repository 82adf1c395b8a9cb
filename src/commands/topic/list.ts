import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { kafkaTargetOf } from '../kafka.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const target = await kafkaTargetOf(ctx);
  const { listTopics } = await import('../../clients/kafka.js');
  const all = await listTopics(target);
  const topics = ctx.flags.internal === true ? all : all.filter((t) => !t.internal);
  ctx.out.print({ topics }, () =>
    renderTable(topics, [
      { header: 'NAME', value: (t) => t.name },
      { header: 'PARTITIONS', value: (t) => t.partitions },
      { header: 'REPLICAS', value: (t) => t.replicationFactor },
    ]),
  );
}
