import { UsageError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { renderParcels, trackingClient } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const limit = ctx.flags.limit === undefined ? undefined : Number(ctx.flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
    throw new UsageError(`--limit "${String(ctx.flags.limit)}" is not a number from 1 to 500.`);
  }
  const page = await (await trackingClient(ctx)).list(limit, ctx.flags.cursor as string | undefined);
  renderParcels(ctx, page.items, page);
  if (!ctx.json && page.nextCursor) ctx.out.info(`more: outboxctl parcel list --cursor ${page.nextCursor}`);
}
