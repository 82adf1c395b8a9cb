import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { withPg } from '../clients/pg.js';
import type { EndpointName } from '../lib/config.js';
import { migrate } from '../migrations/engine.js';
import { defaultLocation } from '../migrations/scripts.js';
import { ensureDebeziumRole } from './components/postgres.js';
import type { StackPaths } from './paths.js';
import type { TaskName } from './plan.js';
import { readState } from './state.js';

/** The topics `up` creates (auto-creation is off): events, dead letters, Debezium's heartbeats. */
export const OUTBOX_TOPIC = 'parcel.outbox';
export const DLQ_TOPIC = 'parcel.outbox.dlq';
export const SOURCE_FILE = 'dbz-source-connector.json';
export const SINK_FILE = 'es-sink-connector.json';

export interface TaskContext {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  /** Where a project's own ./kafka-connectors/ is looked for. */
  cwd: string;
  endpoints: Partial<Record<EndpointName, string>>;
  partitions: number;
  waitTimeoutMs: number;
  debeziumPassword(): Promise<string>;
  onProgress(message: string): void;
}

/**
 * The rendered source or sink connector file of the stack (project-local files first), as the
 * stack's Connect worker reads it (`host`: as the embedded sink on the host does).
 */
export async function stackConnector(ctx: Pick<TaskContext, 'paths' | 'env' | 'cwd'>, file: string, view: 'host' | 'connect' = 'connect') {
  const [{ connectorDir, loadConnectorFiles }, { connectorVariables }] = await Promise.all([
    import('../connectors/files.js'),
    import('../connectors/variables.js'),
  ]);
  const state = await readState(ctx.paths);
  const [spec] = await loadConnectorFiles([path.join(await connectorDir(ctx.cwd), file)], ctx.cwd, connectorVariables(ctx.paths.name, state, ctx.env, view));
  return spec!;
}

/**
 * Debezium's heartbeat topic, `<topic.heartbeat.prefix>.<topic.prefix>`, from the source file; only
 * those two values are rendered, so the topics exist before PostgreSQL's placeholders have values.
 */
export async function heartbeatTopic(ctx: Pick<TaskContext, 'paths' | 'env' | 'cwd'>): Promise<string> {
  const [{ connectorDir }, { connectorVariables }, { renderTemplate }] = await Promise.all([
    import('../connectors/files.js'),
    import('../connectors/variables.js'),
    import('../lib/template.js'),
  ]);
  const file = path.join(await connectorDir(ctx.cwd), SOURCE_FILE);
  const config = (JSON.parse(await readFile(file, 'utf8')) as { config?: Record<string, string> }).config ?? {};
  const vars = connectorVariables(ctx.paths.name, await readState(ctx.paths), ctx.env);
  const render = (v: string) => renderTemplate(v, vars, SOURCE_FILE);
  return `${render(config['topic.heartbeat.prefix'] ?? '__debezium-heartbeat')}.${render(config['topic.prefix'] ?? '')}`;
}

async function createTopics(ctx: TaskContext): Promise<void> {
  const { KafkaAdmin } = await import('../clients/kafka.js');
  const heartbeat = await heartbeatTopic(ctx);
  const admin = await KafkaAdmin.connect(ctx.endpoints.kafka!);
  try {
    for (const [name, partitions] of [
      [OUTBOX_TOPIC, ctx.partitions],
      [DLQ_TOPIC, 1],
      [heartbeat, 1],
    ] as const) {
      if (await admin.exists(name)) continue;
      ctx.onProgress(`creating topic ${name}`);
      await admin.create(name, partitions, 1, {});
    }
  } finally {
    await admin.close();
  }
}

async function installTemplates(ctx: TaskContext): Promise<void> {
  const [{ SearchClient }, { installIndexTemplates }] = await Promise.all([import('../clients/search.js'), import('../sink/index-templates.js')]);
  const search = await SearchClient.connect(ctx.endpoints.elasticsearch!, { deadlineMs: 30_000 });
  const names = await installIndexTemplates(search);
  ctx.onProgress(`installed ${names.join(', ')}`);
}

async function register(ctx: TaskContext, file: string): Promise<void> {
  const [{ ConnectClient }, { registerConnectors }] = await Promise.all([import('../clients/connect.js'), import('../connectors/register.js')]);
  const spec = await stackConnector(ctx, file);
  const client = new ConnectClient(ctx.endpoints.connect!, { deadlineMs: 60_000 });
  await registerConnectors(client, [spec], {
    diff: false,
    wait: true,
    waitTimeoutMs: ctx.waitTimeoutMs,
    skipMissingPlugins: false,
    onProgress: ctx.onProgress,
    onWarning: ctx.onProgress,
  });
}

/** Runs one set-up task of `up`; each is idempotent, so a repeat after a failure is safe. */
export async function runTask(task: TaskName, ctx: TaskContext): Promise<void> {
  switch (task) {
    case 'migrate':
      await withPg(ctx.endpoints.database!, (client) => migrate(client, { locations: [defaultLocation()] }));
      return;
    case 'debezium-role':
      await ensureDebeziumRole(ctx.endpoints.database!, await ctx.debeziumPassword());
      return;
    case 'topics':
      return createTopics(ctx);
    case 'index-templates':
      return installTemplates(ctx);
    case 'register-source':
      return register(ctx, SOURCE_FILE);
    case 'register-sink':
      return register(ctx, SINK_FILE);
  }
}
