import type { ConnectorStatus } from '../clients/connect.js';
import { failureOf } from '../connectors/status.js';
import { stackStatus } from '../stack/lifecycle.js';
import { readState } from '../stack/state.js';
import { SINK_FILE, SOURCE_FILE, stackConnector } from '../stack/tasks.js';
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

/** The state of the stack's connector defined by `file`, as a clause. */
async function connectorClause(ctx: SmokeContext, file: string, role: string): Promise<string> {
  const name = (await stackConnector(ctx, file).catch(() => undefined))?.name ?? file;
  if (!ctx.endpoints.connect) return `Kafka Connect does not run in stack "${ctx.paths.name}", so the ${role} ${name} does not either`;
  const { ConnectClient } = await import('../clients/connect.js');
  try {
    const status = await new ConnectClient(ctx.endpoints.connect, { deadlineMs: 5_000 }).status(name);
    return connectorProblem(name, status) ?? `the ${role} ${name} is RUNNING; look for errors with \`outboxctl logs connect\``;
  } catch (error) {
    return `Kafka Connect at ${ctx.endpoints.connect} does not answer (${(error as Error).message.replace(/\.$/, '')})`;
  }
}

/** Why records do not reach parcel.outbox: the source connector's state. */
export function diagnoseSource(ctx: SmokeContext): Promise<string> {
  return connectorClause(ctx, SOURCE_FILE, 'source connector');
}

/** Why events do not reach Elasticsearch: the embedded sink service, or Connect's sink connector. */
export async function diagnoseSink(ctx: SmokeContext): Promise<string> {
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
