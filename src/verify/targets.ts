import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connectorDir } from '../connectors/files.js';
import { debeziumSlotName } from '../connectors/variables.js';
import { resolveEndpoint } from '../lib/config.js';
import { UserError } from '../lib/errors.js';
import { PARCELS_INDEX } from '../sink/index-templates.js';
import type { StackPaths } from '../stack/paths.js';
import { readState } from '../stack/state.js';
import { OUTBOX_TOPIC, SINK_FILE } from '../stack/tasks.js';

/** Where verify reads each stage, and the names it reads them by. */
export interface VerifyTargets {
  databaseUrl: string;
  bootstrap: string;
  elasticsearchUrl: string;
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
 * Endpoints as every command resolves them (flag > env > the stack's state > default), and the
 * names: --topic (parcel.outbox), --events-index (the sink's: the topic in lower case),
 * --parcels-index, --group (the sink file's `connect-<name>`), --slot (the stack's own slot; for
 * a database named by flag or env, the database's only logical slot).
 */
export async function resolveTargets(req: TargetRequest): Promise<VerifyTargets> {
  const state = await readState(req.paths);
  const input = { flags: req.flags, env: req.env, state };
  const database = resolveEndpoint('database', input);
  if (!database.value) {
    throw new UserError('NO_DATABASE', 'There is no database to verify: the stack has no PostgreSQL and neither --database-url nor DATABASE_URL is set.', {
      hint: 'Start the stack (`outboxctl up`), or name the database of an external one with --database-url.',
    });
  }
  const topic = text(req.flags.topic) ?? OUTBOX_TOPIC;
  return {
    databaseUrl: database.value,
    bootstrap: resolveEndpoint('kafka', input).value!,
    elasticsearchUrl: resolveEndpoint('elasticsearch', input).value!,
    topic,
    eventsIndex: text(req.flags.eventsIndex) ?? topic.toLowerCase(),
    parcelsIndex: text(req.flags.parcelsIndex) ?? PARCELS_INDEX,
    group: text(req.flags.group) ?? (await sinkGroup(req.cwd)),
    slot: text(req.flags.slot) ?? (database.source === 'state' ? debeziumSlotName(req.paths.name) : null),
  };
}
