import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const detail = await withKafkaAdmin(ctx, async (admin) => {
    await admin.requireTopic(name);
    return admin.describe(name);
  });
  const configs = Object.entries(detail.configs);
  ctx.out.print(detail, () =>
    [
      `NAME        ${detail.name}`,
      `PARTITIONS  ${detail.partitions}`,
      `REPLICAS    ${detail.replicationFactor}`,
      '',
      renderTable(detail.partitionDetails, [
        { header: 'PARTITION', value: (p) => p.partition },
        { header: 'LEADER', value: (p) => p.leader },
        { header: 'REPLICAS', value: (p) => p.replicas.join(',') },
        { header: 'ISR', value: (p) => p.isr.join(',') },
        { header: 'LOW', value: (p) => p.low },
        { header: 'HIGH', value: (p) => p.high },
      ]),
      ...(configs.length
        ? [
            '',
            renderTable(configs, [
              { header: 'CONFIG', value: ([k]) => k },
              { header: 'VALUE', value: ([, v]) => v },
            ]),
          ]
        : []),
    ].join('\n'),
  );
}
