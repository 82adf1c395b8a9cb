import pg from 'pg';
import { redactUrl } from '../lib/config.js';
import { CliError, EnvironmentError, UserError } from '../lib/errors.js';
import { isNetworkError, networkReason } from '../lib/network-errors.js';

export type PgClient = pg.Client;
export type PgPool = pg.Pool;
export type PgPoolClient = pg.PoolClient;
/** A statement the server refused, with its SQLSTATE in `code`. */
export type PgDatabaseError = pg.DatabaseError;

/** Parses and checks a PostgreSQL URL before any connection attempt. */
export function parseDatabaseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError('BAD_DATABASE_URL', `The database URL "${redactUrl(url)}" is not a valid URL.`, {
      hint: 'Use the form postgres://USER:PASSWORD@HOST:PORT/DATABASE.',
    });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UserError('BAD_DATABASE_URL', `The database URL "${redactUrl(url)}" does not start with postgres:// or postgresql://.`, {
      hint: 'Use the form postgres://USER:PASSWORD@HOST:PORT/DATABASE.',
    });
  }
  if (!parsed.hostname) {
    throw new UserError('BAD_DATABASE_URL', `The database URL "${redactUrl(url)}" names no host.`, {
      hint: 'Use the form postgres://USER:PASSWORD@HOST:PORT/DATABASE.',
    });
  }
  return parsed;
}

/** Turns a driver error into one sentence naming the server, with a hint. */
export function describeConnectError(url: string, error: unknown): EnvironmentError {
  const e = error as { code?: string; message?: string };
  const target = (() => {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}`;
  })();
  const db = decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  const hint = "Check --database-url / DATABASE_URL, or omit both to use the stack's own PostgreSQL.";
  switch (e.code) {
    case '28P01':
    case '28000':
      return new EnvironmentError('DB_AUTH', `PostgreSQL at ${target} rejected the credentials: ${e.message}.`, { hint, cause: error });
    case '3D000':
      return new EnvironmentError('DB_MISSING', `PostgreSQL at ${target} has no database "${db}".`, {
        hint: 'Create it first, or name an existing one in the URL.',
        cause: error,
      });
    default:
      return new EnvironmentError('DB_UNREACHABLE', `Cannot connect to PostgreSQL at ${target}: ${networkReason(error)}.`, { hint, cause: error });
  }
}

export interface ConnectOptions {
  connectTimeoutMs?: number;
  applicationName?: string;
}

/** A connected client, or an EnvironmentError that names the server. */
export async function connectPg(url: string, options: ConnectOptions = {}): Promise<PgClient> {
  parseDatabaseUrl(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'outboxctl',
  });
  // An idle client whose server goes away must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw describeConnectError(url, error);
  }
  return client;
}

/**
 * A failed statement or a lost connection as one sentence: the server's own message for an
 * SQL error (with its SQLSTATE), an environment error for a connection that went away.
 */
export function describeQueryError(url: string, error: unknown): CliError | undefined {
  if (error instanceof CliError) return undefined;
  const e = error as { code?: string; severity?: string; message?: string };
  if (typeof e.code === 'string' && typeof e.severity === 'string') {
    return new UserError('DATABASE_ERROR', `PostgreSQL refused the request: ${e.message ?? 'unknown error'} (SQLSTATE ${e.code}).`, {
      hint: e.code === '42501' ? 'The database user lacks a privilege: grant it, or use a user that owns the schema.' : undefined,
      cause: error,
    });
  }
  if (isNetworkError(error) || /Connection terminated|connection error/i.test(e.message ?? '')) return describeConnectError(url, error);
  return undefined;
}

export interface PoolOptions {
  max?: number;
  connectTimeoutMs?: number;
  applicationName?: string;
  /** An idle client that lost its server; without it such errors are dropped, never fatal. */
  onIdleError?: (error: Error) => void;
}

/** A pool for a long-running server; statements go through its clients, errors stay the driver's. */
export function createPgPool(url: string, options: PoolOptions = {}): PgPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: options.applicationName ?? 'outboxctl',
  });
  // pg emits 'error' for an idle client whose server went away; unhandled it would end the process.
  pool.on('error', options.onIdleError ?? (() => undefined));
  return pool;
}

/** Runs `fn` with a client and always closes it; database errors leave as CliErrors. */
export async function withPg<T>(url: string, fn: (client: PgClient) => Promise<T>, options?: ConnectOptions): Promise<T> {
  const client = await connectPg(url, options);
  try {
    return await fn(client);
  } catch (error) {
    throw describeQueryError(url, error) ?? error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const quoteIdent = (name: string): string => pg.escapeIdentifier(name);
export const quoteLiteral = (value: string): string => pg.escapeLiteral(value);
