import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { auditGet, pageFooter } from './shared.js';

interface Page {
  total: number;
  items: { id: string; status: string; version: number; updatedAt: string; contents: string }[];
  nextCursor: string | null;
}

export default async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const page = await auditGet<Page>(ctx, '/parcels', { status: flags.status, q: flags.q, since: flags.since, until: flags.until, size: flags.limit, cursor: flags.cursor });
  if (ctx.json) return ctx.out.document(page);
  ctx.out.result(
    renderTable(page.items, [
      { header: 'ID', value: (p) => p.id },
      { header: 'STATUS', value: (p) => p.status },
      { header: 'VERSION', value: (p) => p.version },
      { header: 'UPDATED', value: (p) => p.updatedAt },
      { header: 'CONTENTS', value: (p) => p.contents },
    ]) + pageFooter(page),
  );
}
