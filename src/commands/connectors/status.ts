import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { connectClient, onConnector } from './shared.js';

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const client = await connectClient(ctx);
  const status = await onConnector(client, name, () => client.status(name));
  const config = await onConnector(client, name, () => client.getConfig(name));
  const [{ maskConfig }, { rootCause }] = await Promise.all([import('../../connectors/config-diff.js'), import('../../connectors/status.js')]);
  const masked = maskConfig(config);
  if (ctx.json) {
    ctx.out.document({
      name: status.name,
      type: status.type ?? null,
      state: status.connector.state,
      workerId: status.connector.worker_id,
      trace: status.connector.trace ?? null,
      tasks: status.tasks.map((t) => ({ id: t.id, state: t.state, workerId: t.worker_id, trace: t.trace ?? null })),
      config: masked,
    });
    return;
  }
  const traces = [
    ...(status.connector.trace ? [`connector: ${rootCause(status.connector.trace)}`] : []),
    ...status.tasks.filter((t) => t.trace).map((t) => `task ${t.id}: ${rootCause(t.trace)}`),
  ];
  const full = ctx.verbose ? [status.connector.trace, ...status.tasks.map((t) => t.trace)].filter(Boolean) : [];
  ctx.out.result(
    [
      `NAME    ${status.name}`,
      `TYPE    ${status.type ?? '-'}`,
      `STATE   ${status.connector.state}`,
      `WORKER  ${status.connector.worker_id}`,
      '',
      renderTable(status.tasks, [
        { header: 'TASK', value: (t) => t.id },
        { header: 'STATE', value: (t) => t.state },
        { header: 'WORKER', value: (t) => t.worker_id },
      ]),
      ...(traces.length ? ['', 'FAILURES (root cause; --verbose prints the whole trace)', ...traces.map((t) => `  ${t}`)] : []),
      ...(full.length ? ['', ...(full as string[])] : []),
      '',
      renderTable(
        Object.entries(masked).sort(([a], [b]) => a.localeCompare(b)),
        [
          { header: 'CONFIG', value: ([k]) => k },
          { header: 'VALUE', value: ([, v]) => v },
        ],
      ),
    ].join('\n'),
  );
}
