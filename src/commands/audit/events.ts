import type { CommandContext } from '../context.js';
import { auditGet, type Page, printPage } from './shared.js';

type Event = { eventId: string; eventType: string; aggregateId: string; occurredAt: string };

export default async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const page = await auditGet<Page<Event>>(ctx, '/events', {
    type: flags.type,
    aggregateId: flags.aggregateId,
    since: flags.since,
    until: flags.until,
    size: flags.limit,
    cursor: flags.cursor,
  });
  printPage(ctx, page, [
    { header: 'OCCURRED', value: (e) => e.occurredAt },
    { header: 'TYPE', value: (e) => e.eventType },
    { header: 'PARCEL', value: (e) => e.aggregateId },
    { header: 'EVENT', value: (e) => e.eventId },
  ]);
}
