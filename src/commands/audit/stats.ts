import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { auditGet } from './shared.js';

interface Stats {
  interval: string;
  events: { total: number; byType: Record<string, number> };
  overTime: { at: string; count: number }[];
  parcels: { total: number; byStatus: Record<string, number> };
}

export default async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const stats = await auditGet<Stats>(ctx, '/stats', { interval: flags.interval, since: flags.since, until: flags.until });
  if (ctx.json) return ctx.out.document(stats);
  const pairs = (o: Record<string, number>) => Object.entries(o).map(([key, count]) => ({ key, count }));
  ctx.out.result(
    [
      `EVENTS ${stats.events.total}`,
      renderTable(pairs(stats.events.byType), [
        { header: 'TYPE', value: (r) => r.key },
        { header: 'COUNT', value: (r) => r.count },
      ]),
      '',
      `PARCELS ${stats.parcels.total}`,
      renderTable(pairs(stats.parcels.byStatus), [
        { header: 'STATUS', value: (r) => r.key },
        { header: 'COUNT', value: (r) => r.count },
      ]),
      '',
      renderTable(stats.overTime, [
        { header: `PER ${stats.interval.toUpperCase()}`, value: (r) => r.at },
        { header: 'EVENTS', value: (r) => r.count },
      ]),
    ].join('\n'),
  );
}
