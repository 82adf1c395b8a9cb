import type { CommandContext } from '../context.js';
import { renderParcels, trackingClient } from './shared.js';

export default async function run(ctx: CommandContext, id: string): Promise<void> {
  const parcel = await (await trackingClient(ctx)).get(id);
  renderParcels(ctx, [parcel], parcel);
}
