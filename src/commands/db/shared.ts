import type { PgClient } from '../../clients/pg.js';
import { redactUrl } from '../../lib/config.js';
import type { EngineOptions } from '../../migrations/engine.js';
import { defaultLocation, normalizeLocation } from '../../migrations/scripts.js';
import { type DatabaseRequest, type DatabaseTarget, withDatabase } from '../../stack/database.js';
import type { CommandContext } from '../context.js';

/** The packaged migrations first (unless --no-default-locations), then every `--locations` entry. */
export function engineOptions(ctx: CommandContext): EngineOptions {
  const extra = ((ctx.flags.locations as string[] | undefined) ?? []).flatMap((l) => l.split(',')).filter(Boolean);
  return {
    locations: [...(ctx.flags.defaultLocations === false ? [] : [defaultLocation()]), ...extra.map((l) => normalizeLocation(l, ctx.io.cwd))],
    schema: ctx.flags.schema as string | undefined,
    table: ctx.flags.table as string | undefined,
  };
}

/** What the database helpers take: the flags, the environment, the stack and, when one is selected, the context. */
export function databaseRequest(ctx: CommandContext): DatabaseRequest {
  return { flags: ctx.flags, env: ctx.io.env, paths: ctx.stack, out: ctx.out, ...(ctx.context ? { context: ctx.context } : {}) };
}

export function onDatabase<T>(ctx: CommandContext, fn: (client: PgClient, target: DatabaseTarget) => Promise<T>): Promise<T> {
  return withDatabase(databaseRequest(ctx), fn);
}

export function describeTarget(target: DatabaseTarget): string {
  return target.kind === 'external' ? redactUrl(target.url) : `stack PostgreSQL (${redactUrl(target.url)})`;
}
