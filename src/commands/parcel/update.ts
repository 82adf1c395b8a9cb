import { UsageError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { renderParcels, trackingClient } from './shared.js';

export default async function run(ctx: CommandContext, id: string): Promise<void> {
  const { contents, status, ifMatch } = ctx.flags as { contents?: string; status?: string; ifMatch?: string };
  if (contents === undefined && status === undefined) throw new UsageError('Nothing to update.', { hint: 'Pass --contents and/or --status.' });
  const client = await trackingClient(ctx);
  const parcel = await client.update(id, { contents, status }, ifMatch);
  renderParcels(ctx, [parcel], parcel);
}
