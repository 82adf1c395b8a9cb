import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const groups = await withKafkaAdmin(ctx, (admin) => admin.listGroups());
  ctx.out.print({ groups }, () =>
    groups.length === 0
      ? 'No consumer groups.'
      : renderTable(groups, [
          { header: 'GROUP', value: (g) => g.group },
          { header: 'STATE', value: (g) => g.state },
          { header: 'MEMBERS', value: (g) => g.members },
          { header: 'PROTOCOL', value: (g) => g.protocolType || '-' },
        ]),
  );
}
