import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { auditGet } from './shared.js';

interface History {
  parcelId: string;
  events: { eventId: string; eventType: string; occurredAt: string; version: number | null; changed: string[] }[];
}

export default async function run(ctx: CommandContext, id: string): Promise<void> {
  const history = await auditGet<History>(ctx, `/parcels/${encodeURIComponent(id)}/history`);
  if (ctx.json) return ctx.out.document(history);
  ctx.out.result(
    renderTable(history.events, [
      { header: 'VERSION', value: (e) => e.version ?? '-' },
      { header: 'TYPE', value: (e) => e.eventType },
      { header: 'OCCURRED', value: (e) => e.occurredAt },
      { header: 'CHANGED', value: (e) => e.changed.join(',') },
      { header: 'EVENT', value: (e) => e.eventId },
    ]),
  );
}
