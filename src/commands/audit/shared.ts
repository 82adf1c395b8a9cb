import { resolveHttpTarget } from '../../lib/config.js';
import { type Column, renderTable } from '../../lib/table.js';
import { type CommandContext, resolveInputOf } from '../context.js';

/** GET on the auditing server the flags, the environment, the context or the stack state point at; a problem answer becomes one sentence, exit 1. */
export async function auditGet<T>(ctx: CommandContext, path: string, params: Record<string, unknown> = {}): Promise<T> {
  const target = resolveHttpTarget('auditing', await resolveInputOf(ctx));
  const { AuditingClient } = await import('../../clients/auditing.js');
  return new AuditingClient(target).get<T>(path, params);
}

/** A page of the auditing server's `/parcels` or `/events`. */
export interface Page<T> {
  total: number;
  items: T[];
  nextCursor: string | null;
}

/** The line under a page's table: how many of how many, and the flag for the next page. */
export function pageFooter(page: Page<unknown>): string {
  return `\n${page.items.length} of ${page.total}${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}`;
}

/** A page as --json prints it, else as a table with the footer. */
export function printPage<T>(ctx: CommandContext, page: Page<T>, columns: Column<T>[]): void {
  if (ctx.json) ctx.out.document(page);
  else ctx.out.result(renderTable(page.items, columns) + pageFooter(page));
}
