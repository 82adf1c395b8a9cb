import type { CommandContext } from '../context.js';
import { connectClient, onConnector, printRows } from './shared.js';

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const client = await connectClient(ctx);
  const { offsets } = await onConnector(client, name, () => client.offsets(name));
  printRows(ctx, { name, offsets }, offsets, [
    { header: 'PARTITION', value: (o) => JSON.stringify(o.partition) },
    { header: 'OFFSET', value: (o) => JSON.stringify(o.offset) },
  ]);
}
