import type { ConnectClient } from '../../clients/connect.js';
import type { ConnectorSpec } from '../../connectors/spec.js';
import { resolveHttpTarget } from '../../lib/config.js';
import { parseDuration } from '../../lib/duration.js';
import { UserError } from '../../lib/errors.js';
import { type Column, renderTable } from '../../lib/table.js';
import type { StackState } from '../../stack/state.js';
import { type CommandContext, resolveInputOf } from '../context.js';

/**
 * A client of Kafka Connect: --connect-url / KAFKA_CONNECT_URL, the context's (with its basic auth
 * and CA) or the stack's. `state`: the stack state the caller already read (none under a context).
 */
export async function connectClient(ctx: CommandContext, state?: StackState): Promise<ConnectClient> {
  const input = await resolveInputOf(ctx, state);
  const target = resolveHttpTarget('connect', input);
  const { ConnectClient } = await import('../../clients/connect.js');
  return new ConnectClient(target);
}

/**
 * Connector files (default: the connector directory), read and rendered with the stack's variables;
 * under a context only the environment's (and the context's endpoints) fill `${VAR}`.
 */
export async function loadSpecs(ctx: CommandContext, files: string[], state: StackState | undefined): Promise<ConnectorSpec[]> {
  const [{ defaultConnectorFiles, loadConnectorFiles }, { connectorVariables }] = await Promise.all([
    import('../../connectors/files.js'),
    import('../../connectors/variables.js'),
  ]);
  const paths = files.length ? files : await defaultConnectorFiles(ctx.io.cwd);
  return loadConnectorFiles(paths, ctx.io.cwd, connectorVariables(ctx.stack.name, state, contextEnv(ctx), 'connect'));
}

/**
 * The environment a context's connector files are rendered with: the context's Kafka,
 * Elasticsearch and database addresses as the variables the packaged files use, unless set.
 */
export function contextEnv(ctx: CommandContext): NodeJS.ProcessEnv {
  const context = ctx.context;
  if (!context) return ctx.io.env;
  const fromContext: Record<string, string | undefined> = {
    KAFKA_BOOTSTRAP_SERVERS: context.kafka?.brokers,
    ELASTICSEARCH_URL: context.elasticsearch?.url,
    DATABASE_URL: context.database?.url,
  };
  const defined = Object.fromEntries(Object.entries(fromContext).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return { ...defined, ...ctx.io.env };
}

/** Runs `fn`; Connect's 404 for the connector becomes one sentence naming it. */
export async function onConnector<T>(client: ConnectClient, name: string, fn: () => Promise<T | undefined>): Promise<T> {
  const missing = () =>
    new UserError('CONNECTOR_MISSING', `Connector "${name}" does not exist on Kafka Connect at ${client.url}.`, {
      hint: '`outboxctl connectors list` shows the connectors there.',
    });
  let result: T | undefined;
  try {
    result = await fn();
  } catch (error) {
    if (error instanceof UserError && error.code === 'CONNECT_NOT_FOUND') throw missing();
    throw error;
  }
  if (result === undefined) throw missing();
  return result;
}

/** How long pause/resume/restart wait for Connect to report the new state. */
const STATE_CHANGE_TIMEOUT_MS = 30_000;

/** `--wait-timeout` in milliseconds (a usage error when it is not a duration). */
export function waitTimeout(ctx: CommandContext): number {
  return parseDuration(String(ctx.flags.waitTimeout ?? '120s'), '--wait-timeout');
}

export interface StateChange {
  /** The result line before the state: `Paused parcel-outbox-source`. */
  done: string;
  target: 'RUNNING' | 'PAUSED';
  /** The request; what Connect answers goes into the JSON document as `response`. */
  act: (client: ConnectClient) => Promise<unknown>;
  /** Connect answers a resume before the status changes: PAUSED is then not yet the outcome. */
  leavingPause?: boolean;
}

/** Sends a state change, waits until Connect reports the target state, prints the outcome. */
export async function changeState(ctx: CommandContext, name: string, change: StateChange): Promise<void> {
  const client = await connectClient(ctx);
  const response = await onConnector(client, name, async () => (await change.act(client)) ?? null);
  const [{ waitForState }, { shortStatus }] = await Promise.all([import('../../connectors/wait.js'), import('../../connectors/status.js')]);
  const status = await waitForState(client, name, change.target, {
    timeoutMs: STATE_CHANGE_TIMEOUT_MS,
    settleMs: change.target === 'RUNNING' ? 1_000 : 0,
    pausedIsFinal: !change.leavingPause,
    onProgress: (summary) => ctx.out.info(`${name}: ${summary}`),
  });
  if (ctx.json) {
    ctx.out.document({ name, response, state: status.connector.state, tasks: status.tasks.map((t) => ({ id: t.id, state: t.state })) });
    return;
  }
  ctx.out.result(`${change.done} (${shortStatus(status)}).`);
}

/** The JSON document under --json, else the rows as a table. */
export function printRows<Row>(ctx: CommandContext, document: unknown, rows: Row[], columns: Column<Row>[]): void {
  if (ctx.json) ctx.out.document(document);
  else ctx.out.result(renderTable(rows, columns));
}
