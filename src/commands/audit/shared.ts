import axios from 'axios';
import { renderTable, type Column } from '../../lib/table.js';
import { resolveEndpoint } from '../../lib/config.js';
import { EnvironmentError, UserError } from '../../lib/errors.js';
import { readState } from '../../stack/state.js';
import type { CommandContext } from '../context.js';

/** GET on the auditing server; a problem answer becomes one sentence, exit 1. */
export async function auditGet<T>(ctx: CommandContext, path: string, params: Record<string, unknown> = {}): Promise<T> {
  const base = resolveEndpoint('auditing', { flags: ctx.flags, env: ctx.io.env, state: await readState(ctx.stack) }).value!;
  const query = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  let response;
  try {
    response = await axios.get<T>(`${base.replace(/\/$/, '')}${path}`, { params: query, timeout: 15_000, validateStatus: () => true });
  } catch (error) {
    throw new EnvironmentError('AUDITING_UNREACHABLE', `Cannot reach the auditing server at ${base}: ${(error as { code?: string }).code === 'ECONNREFUSED' ? 'connection refused' : (error as Error).message}.`, {
      hint: 'Is the stack up (`outboxctl up`)? --auditing-url / AUDITING_URL point elsewhere.',
    });
  }
  if (response.status >= 400) {
    const detail = (response.data as { detail?: string } | undefined)?.detail ?? `HTTP ${response.status}`;
    throw new UserError('AUDITING_REFUSED', `The auditing server answered ${response.status}: ${detail.replace(/\.$/, '')}.`);
  }
  return response.data;
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
  if (ctx.json) return ctx.out.document(page);
  ctx.out.result(renderTable(page.items, columns) + pageFooter(page));
}
