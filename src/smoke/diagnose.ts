import type { ConnectorInfo, ConnectorStatus } from '../clients/connect.js';
import { failureOf } from '../connectors/status.js';
import { redactUrl } from '../lib/config.js';
import { OUTBOX_TOPIC } from '../stack/tasks.js';
import type { SmokeContext } from './context.js';

/** Why a connector does not move records, as one clause; `undefined` when it looks healthy. */
export function connectorProblem(name: string, status: ConnectorStatus | undefined): string | undefined {
  if (!status) return `connector ${name} is not registered (\`outboxctl up\` registers it)`;
  const failed = failureOf(status);
  if (failed) return `connector ${name} is FAILED (${failed.cause}); see \`outboxctl connectors status ${name}\``;
  if (status.connector.state === 'PAUSED' || status.tasks.some((t) => t.state === 'PAUSED'))
    return `connector ${name} is PAUSED; resume it with \`outboxctl connectors resume ${name}\``;
  if (status.connector.state !== 'RUNNING') return `connector ${name} is ${status.connector.state}`;
  if (status.tasks.length === 0) return `connector ${name} has no task`;
  const idle = status.tasks.find((t) => t.state !== 'RUNNING');
  return idle ? `task ${idle.id} of connector ${name} is ${idle.state}` : undefined;
}

/** Whether a sink connector's `topics` / `topics.regex` take `topic`. */
function readsTopic(info: ConnectorInfo | undefined, topic: string): boolean {
  const config = info?.config ?? {};
  if (config.topics?.split(',').some((t) => t.trim() === topic)) return true;
  try {
    return config['topics.regex'] !== undefined && new RegExp(`^(?:${config['topics.regex']})$`).test(topic);
  } catch {
    return false;
  }
}

/**
 * The connectors of a deployed pipeline's Connect that play `role`, as a clause: which is not
 * RUNNING, or that all are. Pure: `connectors` is `GET /connectors?expand=status&expand=info`.
 */
export function externalConnectorsClause(
  connectors: Record<string, { status?: ConnectorStatus; info?: ConnectorInfo }>,
  role: 'source' | 'sink',
  connectUrl: string,
): string {
  const type = (c: { status?: ConnectorStatus; info?: ConnectorInfo }) => c.info?.type ?? c.status?.type;
  const ours = Object.entries(connectors).filter(([, c]) => type(c) === role && (role === 'source' || readsTopic(c.info, OUTBOX_TOPIC)));
  if (ours.length === 0)
    return role === 'source'
      ? `Kafka Connect at ${connectUrl} runs no source connector`
      : `no sink connector on Kafka Connect at ${connectUrl} reads ${OUTBOX_TOPIC} (a sink outside Connect writes the search engine: see its logs)`;
  const problems = ours.map(([name, c]) => connectorProblem(name, c.status)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) return problems.join('; ');
  return `the ${role} connector${ours.length === 1 ? '' : 's'} ${ours.map(([name]) => name).join(', ')} on Kafka Connect at ${connectUrl} ${ours.length === 1 ? 'is' : 'are'} RUNNING`;
}

/** Under a context: what the context's Connect says of its connectors (no local state is read). */
async function externalClause(ctx: SmokeContext, role: 'source' | 'sink'): Promise<string> {
  const connect = ctx.targets.connect;
  if (!connect) return `context "${ctx.external!.context}" names no Kafka Connect to ask about its ${role} connector`;
  const { ConnectClient } = await import('../clients/connect.js');
  const client = new ConnectClient(connect, { deadlineMs: 5_000 });
  try {
    return externalConnectorsClause(await client.list(), role, redactUrl(client.url));
  } catch (error) {
    return `Kafka Connect at ${redactUrl(client.url)} does not answer (${(error as Error).message.replace(/\.$/, '')})`;
  }
}

/** The state of the stack's connector defined by `file`, as a clause. */
async function connectorClause(ctx: SmokeContext, file: string, role: string): Promise<string> {
  const { stackConnector } = await import('../stack/tasks.js');
  const name = (await stackConnector(ctx, file).catch(() => undefined))?.name ?? file;
  const connect = ctx.targets.connect;
  if (!connect) return `Kafka Connect does not run in stack "${ctx.paths.name}", so the ${role} ${name} does not either`;
  const { ConnectClient } = await import('../clients/connect.js');
  try {
    const status = await new ConnectClient(connect, { deadlineMs: 5_000 }).status(name);
    return connectorProblem(name, status) ?? `the ${role} ${name} is RUNNING; look for errors with \`outboxctl logs connect\``;
  } catch (error) {
    return `Kafka Connect at ${redactUrl(connect.url)} does not answer (${(error as Error).message.replace(/\.$/, '')})`;
  }
}

/** Why records do not reach parcel.outbox: the source connector's state. */
export async function diagnoseSource(ctx: SmokeContext): Promise<string> {
  if (ctx.external) return externalClause(ctx, 'source');
  const { SOURCE_FILE } = await import('../stack/tasks.js');
  return connectorClause(ctx, SOURCE_FILE, 'source connector');
}

/** Why events do not reach Elasticsearch: the embedded sink service, or Connect's sink connector. */
export async function diagnoseSink(ctx: SmokeContext): Promise<string> {
  if (ctx.external) return externalClause(ctx, 'sink');
  const [{ readState }, { stackStatus }, { SINK_FILE }] = await Promise.all([
    import('../stack/state.js'),
    import('../stack/lifecycle.js'),
    import('../stack/tasks.js'),
  ]);
  const state = await readState(ctx.paths);
  if (state?.sink === 'connect') return connectorClause(ctx, SINK_FILE, 'sink connector');
  const sink = (await stackStatus(ctx.paths)).services.find((s) => s.name === 'sink');
  switch (sink?.state) {
    case 'stopped':
      return 'the embedded sink (service sink) is stopped; start it with `outboxctl up`';
    case 'crashed':
      return 'the embedded sink (service sink) has exited; see `outboxctl logs sink`, then `outboxctl up`';
    case 'unhealthy':
      return 'the embedded sink (service sink) runs but reports unhealthy; see `outboxctl logs sink`';
    default:
      return 'the embedded sink (service sink) is running; look for errors with `outboxctl logs sink`';
  }
}
