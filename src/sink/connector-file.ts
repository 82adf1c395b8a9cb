import type { CommandContext } from '../commands/context.js';
import type { ConnectorSpec } from '../connectors/spec.js';

/** The sink's connector file, rendered for the stack: --connector-file, else es-sink-connector.json of the connector directory. */
export async function loadSinkConnector(ctx: CommandContext, file?: string): Promise<ConnectorSpec> {
  const { SINK_FILE, stackConnector } = await import('../stack/tasks.js');
  if (!file) return stackConnector({ paths: ctx.stack, env: ctx.io.env, cwd: ctx.io.cwd }, SINK_FILE, 'host');
  const [{ loadConnectorFiles }, { connectorVariables }, { readState }] = await Promise.all([
    import('../connectors/files.js'),
    import('../connectors/variables.js'),
    import('../stack/state.js'),
  ]);
  const [spec] = await loadConnectorFiles([file], ctx.io.cwd, connectorVariables(ctx.stack.name, await readState(ctx.stack), ctx.io.env));
  return spec!;
}
