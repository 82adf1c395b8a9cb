import type { CommandContext } from '../context.js';
import { connectClient, printRows } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const client = await connectClient(ctx);
  const plugins = (await client.plugins()).sort((a, b) => a.class.localeCompare(b.class));
  printRows(ctx, { plugins }, plugins, [
    { header: 'CLASS', value: (p) => p.class },
    { header: 'TYPE', value: (p) => p.type },
    { header: 'VERSION', value: (p) => p.version },
  ]);
}
