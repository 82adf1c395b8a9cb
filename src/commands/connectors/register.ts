import { type CommandContext, stackStateOf } from '../context.js';
import { connectClient, loadSpecs, waitTimeout } from './shared.js';

export default async function run(ctx: CommandContext, ...files: string[]): Promise<void> {
  const waitTimeoutMs = waitTimeout(ctx);
  const state = await stackStateOf(ctx);
  const specs = await loadSpecs(ctx, files, state);
  const client = await connectClient(ctx, state);
  const [{ registerConnectors }, { formatChange, maskChange }, { shortStatus }] = await Promise.all([
    import('../../connectors/register.js'),
    import('../../connectors/config-diff.js'),
    import('../../connectors/status.js'),
  ]);
  const outcomes = await registerConnectors(client, specs, {
    diff: ctx.flags.diff === true,
    wait: ctx.flags.wait !== false,
    waitTimeoutMs,
    // Without files, a connector whose plugin the worker lacks is skipped: the stack has no Elasticsearch sink plugin.
    skipMissingPlugins: files.length === 0,
    onProgress: (message) => ctx.out.info(message),
    onWarning: (message) => ctx.out.warn(message),
  });
  if (ctx.json) {
    ctx.out.document({
      connectors: outcomes.map((o) => ({
        name: o.name,
        file: o.file,
        class: o.connectorClass,
        action: o.action,
        changes: o.changes.map(maskChange),
        state: o.status?.connector.state ?? null,
        tasks: o.status?.tasks.map((t) => ({ id: t.id, state: t.state })) ?? [],
        ...(o.reason ? { reason: o.reason } : {}),
      })),
    });
    return;
  }
  const lines: string[] = [];
  for (const o of outcomes) {
    const state = o.status ? ` (${shortStatus(o.status)})` : '';
    if (o.action === 'skipped') lines.push(`${o.name}: skipped, its plugin ${o.connectorClass} is not installed`);
    else if (o.action === 'unchanged') lines.push(ctx.flags.diff === true ? `${o.name}: no changes` : `${o.name}: config unchanged, nothing sent${state}`);
    else if (o.action === 'would-create' || o.action === 'would-update') {
      lines.push(`${o.name}: would be ${o.action === 'would-create' ? 'created' : 'updated'} from ${o.file}`, ...o.changes.map((c) => `  ${formatChange(c)}`));
    } else lines.push(`${o.name}: ${o.action} from ${o.file}${state}`);
  }
  ctx.out.result(lines.join('\n'));
}
