import type { CommandContext } from '../context.js';
import { auditGet, type Page, printPage } from './shared.js';

type Parcel = { id: string; status: string; version: number; updatedAt: string; contents: string };

export default async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const page = await auditGet<Page<Parcel>>(ctx, '/parcels', {
    status: flags.status,
    q: flags.q,
    since: flags.since,
    until: flags.until,
    size: flags.limit,
    cursor: flags.cursor,
  });
  printPage(ctx, page, [
    { header: 'ID', value: (p) => p.id },
    { header: 'STATUS', value: (p) => p.status },
    { header: 'VERSION', value: (p) => p.version },
    { header: 'UPDATED', value: (p) => p.updatedAt },
    { header: 'CONTENTS', value: (p) => p.contents },
  ]);
}
