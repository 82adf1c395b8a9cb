import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { auditGet, pageFooter } from './shared.js';

interface Page {
  total: number;
  items: { eventId: string; eventType: string; aggregateId: string; occurredAt: string }[];
  nextCursor: string | null;
}

export default async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const page = await auditGet<Page>(ctx, '/events', { type: flags.type, aggregateId: flags.aggregateId, since: flags.since, until: flags.until, size: flags.limit, cursor: flags.cursor });
  if (ctx.json) return ctx.out.document(page);
  ctx.out.result(
    renderTable(page.items, [
      { header: 'OCCURRED', value: (e) => e.occurredAt },
      { header: 'TYPE', value: (e) => e.eventType },
      { header: 'PARCEL', value: (e) => e.aggregateId },
      { header: 'EVENT', value: (e) => e.eventId },
    ]) + pageFooter(page),
  );
}
