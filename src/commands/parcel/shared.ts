import { TrackingClient } from '../../clients/tracking.js';
import { resolveHttpTarget } from '../../lib/config.js';
import { renderTable } from '../../lib/table.js';
import type { Parcel } from '../../servers/tracking/parcel.js';
import { type CommandContext, resolveInputOf } from '../context.js';

/** The tracking server: --tracking-url / TRACKING_URL, the context's or the stack's, with the token resolveToken finds. */
export async function trackingClient(ctx: CommandContext): Promise<TrackingClient> {
  return new TrackingClient(resolveHttpTarget('tracking', await resolveInputOf(ctx)));
}

const clip = (text: string, max = 40) => (text.length > max ? `${text.slice(0, max - 1)}…` : text).replace(/\s+/g, ' ');

/** Parcels as a small table, or the server's JSON under --json. */
export function renderParcels(ctx: CommandContext, parcels: Parcel[], json: unknown): void {
  if (ctx.json) {
    ctx.out.document(json);
    return;
  }
  ctx.out.result(
    renderTable(parcels, [
      { header: 'ID', value: (p) => p.id },
      { header: 'STATUS', value: (p) => p.status },
      { header: 'VERSION', value: (p) => p.version },
      { header: 'UPDATED', value: (p) => p.updatedAt },
      { header: 'CONTENTS', value: (p) => clip(p.contents) },
    ]),
  );
}
