import type { CommandContext } from '../context.js';
import { renderParcels, trackingClient } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const client = await trackingClient(ctx);
  const parcel = await client.create(String(ctx.flags.contents), ctx.flags.idempotencyKey as string | undefined);
  renderParcels(ctx, [parcel], parcel);
}
