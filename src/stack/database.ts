import { connectPg, type PgClient, withPg } from '../clients/pg.js';
import { type ContextTargets, redactUrl, resolveDatabaseUrl, resolveEndpoint } from '../lib/config.js';
import { onInterrupt } from '../lib/interrupt.js';
import type { Output } from '../lib/output.js';
import type { StackPaths } from './paths.js';
import { ensurePostgres, stopPostgres } from './postgres.js';
import { hasInstance } from './service.js';
import { readState, withStackLock } from './state.js';

export interface DatabaseTarget {
  url: string;
  /** `external` for --database-url / DATABASE_URL or a context's, `stack` for the stack's own PostgreSQL. */
  kind: 'external' | 'stack';
  /** True when the stack's PostgreSQL was started for this command only. */
  temporary: boolean;
}

export interface DatabaseRequest {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  paths: StackPaths;
  out: Output;
  /** The selected context: its database (or the flag's), never the stack's. */
  context?: ContextTargets;
}

/** The database named by flag/env or the context, or the stack's PostgreSQL when it is already running. */
async function runningDatabase(req: DatabaseRequest): Promise<DatabaseTarget | undefined> {
  // Under a context there is no stack to fall back on: resolution names the context when it has no database.
  const external = resolveDatabaseUrl({ flags: req.flags, env: req.env, ...(req.context ? { context: req.context } : {}) });
  if (external.value) return { url: external.value, kind: 'external', temporary: false };
  const state = await readState(req.paths);
  const fromState = resolveEndpoint('database', { flags: {}, env: {}, state });
  // One started by another db command is stopped when that command ends: wait on the lock instead.
  if (!fromState.value || !(await hasInstance(state?.services.postgres)) || state?.services.postgres?.owner === 'command') return undefined;
  const client = await connectPg(fromState.value, { connectTimeoutMs: 5_000 }).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'DB_UNREACHABLE') return undefined;
    throw error;
  });
  if (!client) return undefined;
  await client.end().catch(() => undefined);
  return { url: fromState.value, kind: 'stack', temporary: false };
}

const stopNote = (req: DatabaseRequest, url: string) => req.out.info(`stopped PostgreSQL (${redactUrl(url)})`);

/**
 * Runs `fn` against the database the flags/env name or, without one, the stack's embedded
 * PostgreSQL — started for the duration of the command (holding the stack lock) when it is
 * not running.
 */
export async function withDatabase<T>(req: DatabaseRequest, fn: (client: PgClient, target: DatabaseTarget) => Promise<T>): Promise<T> {
  const running = await runningDatabase(req);
  if (running) return withPg(running.url, (client) => fn(client, running));
  return withStackLock(req.paths, { onWait: () => req.out.info(`waiting for another outboxctl command on stack "${req.paths.name}"…`) }, async () => {
    const pg = await ensurePostgres(req.paths, { onProgress: (m) => req.out.info(m), owner: 'command' });
    const target: DatabaseTarget = { url: pg.url, kind: 'stack', temporary: pg.started };
    if (!pg.started) return withPg(pg.url, (client) => fn(client, target));
    const forget = onInterrupt(() => stopPostgres(req.paths).then(() => undefined));
    try {
      return await withPg(pg.url, (client) => fn(client, target));
    } finally {
      forget();
      await stopPostgres(req.paths);
      stopNote(req, pg.url);
    }
  });
}

export interface DatabaseLease extends DatabaseTarget {
  /** Stops the stack's PostgreSQL if this lease started it. */
  release(): Promise<void>;
}

/** Like withDatabase, for long-running servers: the lock is held only while starting and stopping. */
export async function leaseDatabase(req: DatabaseRequest): Promise<DatabaseLease> {
  const running = await runningDatabase(req);
  if (running) return { ...running, release: async () => undefined };
  const pg = await withStackLock(req.paths, {}, () => ensurePostgres(req.paths, { onProgress: (m) => req.out.info(m), owner: 'service' }));
  if (!pg.started) return { url: pg.url, kind: 'stack', temporary: false, release: async () => undefined };
  const stop = async () => {
    await withStackLock(req.paths, {}, () => stopPostgres(req.paths));
    stopNote(req, pg.url);
  };
  const forget = onInterrupt(stop);
  return {
    url: pg.url,
    kind: 'stack',
    temporary: true,
    release: async () => {
      forget();
      await stop();
    },
  };
}
