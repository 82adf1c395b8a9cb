import { connectPg, withPg, type PgClient } from '../clients/pg.js';
import { redactUrl, resolveEndpoint } from '../lib/config.js';
import { onInterrupt } from '../lib/interrupt.js';
import type { Output } from '../lib/output.js';
import type { StackPaths } from './paths.js';
import { ensurePostgres, stopPostgres } from './postgres.js';
import { readState, withStackLock } from './state.js';

export interface DatabaseTarget {
  url: string;
  /** `external` for --database-url / DATABASE_URL, `stack` for the stack's own PostgreSQL. */
  kind: 'external' | 'stack';
  /** True when the stack's PostgreSQL was started for this command only. */
  temporary: boolean;
}

export interface DatabaseRequest {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  paths: StackPaths;
  out: Output;
}

/**
 * Runs `fn` against the database the flags/env name or, without one, the stack's embedded
 * PostgreSQL — started for the duration of the command when it is not running.
 */
export async function withDatabase<T>(req: DatabaseRequest, fn: (client: PgClient, target: DatabaseTarget) => Promise<T>): Promise<T> {
  const external = resolveEndpoint('database', { flags: req.flags, env: req.env });
  if (external.value) {
    const target: DatabaseTarget = { url: external.value, kind: 'external', temporary: false };
    return withPg(external.value, (client) => fn(client, target));
  }
  const state = await readState(req.paths);
  const fromState = resolveEndpoint('database', { flags: {}, env: {}, state });
  if (fromState.value && state?.services.postgres?.pid) {
    // A managed PostgreSQL is (or was) running: use it without taking the lock.
    const client = await connectPg(fromState.value, { connectTimeoutMs: 5_000 }).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'DB_UNREACHABLE') return undefined;
      throw error;
    });
    if (client) {
      try {
        return await fn(client, { url: fromState.value, kind: 'stack', temporary: false });
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }
  return withStackLock(req.paths, async () => {
    const pg = await ensurePostgres(req.paths, { onProgress: (m) => req.out.info(m) });
    const target: DatabaseTarget = { url: pg.url, kind: 'stack', temporary: pg.started };
    if (!pg.started) return withPg(pg.url, (client) => fn(client, target));
    const forget = onInterrupt(() => stopPostgres(req.paths).then(() => undefined));
    try {
      return await withPg(pg.url, (client) => fn(client, target));
    } finally {
      forget();
      await stopPostgres(req.paths);
      req.out.info(`stopped PostgreSQL (${redactUrl(pg.url)})`);
    }
  });
}
