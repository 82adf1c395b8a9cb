import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connectorDir } from '../connectors/files.js';
import { debeziumSlotName } from '../connectors/variables.js';
import { type ContextTargets, resolveDatabaseUrl, resolveHttpTarget, resolveKafkaTarget } from '../lib/config.js';
import { UserError } from '../lib/errors.js';
import type { HttpTarget, KafkaTarget } from '../lib/targets.js';
import { PARCELS_INDEX } from '../sink/index-templates.js';
import type { StackPaths } from '../stack/paths.js';
import { OUTBOX_TOPIC, SINK_FILE } from '../stack/tasks.js';

/** Where verify reads each stage, and the names it reads them by. */
export interface VerifyTargets {
  /** With a context's password in it: print it only through redactUrl. */
  databaseUrl: string;
  kafka: KafkaTarget;
  elasticsearch: HttpTarget;
  topic: string;
  eventsIndex: string;
  parcelsIndex: string;
  /** The sink's consumer group. */
  group: string;
  /** The Debezium slot; null: the database's only logical slot. */
  slot: string | null;
}

export interface TargetRequest {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  paths: StackPaths;
  cwd: string;
  /** The selected context (the command's: createContext selected it); none, the local stack. */
  context?: ContextTargets;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Connect names a sink connector's group `connect-<name>`: the name from the sink connector file verify would deploy. */
async function sinkGroup(cwd: string): Promise<string> {
  try {
    const file = JSON.parse(await readFile(path.join(await connectorDir(cwd), SINK_FILE), 'utf8')) as { name?: unknown };
    if (typeof file.name === 'string' && file.name) return `connect-${file.name}`;
  } catch {
    // No readable sink file: Connect's name for the packaged one.
  }
  return 'connect-elasticsearch-sink';
}

/**
 * Endpoints as every command resolves them (flag > env > context > the stack's state > default), and the
 * names: --topic (parcel.outbox), --events-index (the sink's: the topic in lower case),
 * --parcels-index, --group (the sink file's `connect-<name>`), --slot (the stack's own slot; for
 * a database named by flag or env, the database's only logical slot).
 */
export async function resolveTargets(req: TargetRequest): Promise<VerifyTargets> {
  const { context } = req;
  // Under a context the stack's state is not read: environments never mix.
  const input = context
    ? { flags: req.flags, env: req.env, context }
    : { flags: req.flags, env: req.env, state: await (await import('../stack/state.js')).readState(req.paths) };
  const database = resolveDatabaseUrl(input);
  if (!database.value) {
    throw new UserError('NO_DATABASE', 'There is no database to verify: the stack has no PostgreSQL and neither --database-url nor DATABASE_URL is set.', {
      hint: 'Start the stack (`outboxctl up`), or name the database of an external one with --database-url.',
    });
  }
  const topic = text(req.flags.topic) ?? OUTBOX_TOPIC;
  return {
    databaseUrl: database.value,
    kafka: resolveKafkaTarget(input),
    elasticsearch: resolveHttpTarget('elasticsearch', input),
    topic,
    eventsIndex: text(req.flags.eventsIndex) ?? topic.toLowerCase(),
    parcelsIndex: text(req.flags.parcelsIndex) ?? PARCELS_INDEX,
    group: text(req.flags.group) ?? (await sinkGroup(req.cwd)),
    slot: text(req.flags.slot) ?? (database.source === 'state' ? debeziumSlotName(req.paths.name) : null),
  };
}
