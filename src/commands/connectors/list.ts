import type { CommandContext } from '../context.js';
import { connectClient, printRows } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const client = await connectClient(ctx);
  const all = await client.list();
  const connectors = Object.entries(all)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { status, info }]) => ({
      name,
      type: status?.type ?? info?.type ?? null,
      class: info?.config['connector.class'] ?? null,
      state: status?.connector.state ?? null,
      workerId: status?.connector.worker_id ?? null,
      tasks: (status?.tasks ?? []).map((t) => ({ id: t.id, state: t.state, workerId: t.worker_id })),
    }));
  printRows(ctx, { connectors }, connectors, [
    { header: 'NAME', value: (c) => c.name },
    { header: 'TYPE', value: (c) => c.type },
    { header: 'STATE', value: (c) => c.state },
    { header: 'TASKS', value: (c) => c.tasks.map((t) => `${t.id}:${t.state}`).join(' ') || '-' },
    { header: 'CLASS', value: (c) => c.class },
  ]);
}
