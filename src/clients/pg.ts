import { createRequire } from 'node:module';
import type pg from 'pg';
import { parse as parseConnectionString, toClientConfig } from 'pg-connection-string';
import { redactUrl } from '../lib/config.js';
import { CliError, EnvironmentError, UserError } from '../lib/errors.js';
import { isNetworkError, networkReason } from '../lib/network-errors.js';
import { classifyTlsError, type TlsFailureKind } from '../lib/tls-errors.js';

const requireModule = createRequire(import.meta.url);
let driver: typeof pg | undefined;

/** node-postgres, loaded on first use: importing this module (a component, a command's module graph) costs nothing until a connection is made. */
function loadPg(): typeof pg {
  driver ??= requireModule('pg') as typeof pg;
  return driver;
}

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

/** libpq's sslmode values; outboxctl gives each libpq's meaning, not node-postgres's. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** What a URL asks of TLS: its sslmode (undefined: none given, plain as node-postgres does) and root CA file. */
export function sslSettings(url: string): { sslmode?: SslMode; sslrootcert?: string } {
  const params = new URL(url).searchParams;
  const mode = params.get('sslmode') ?? undefined;
  return { sslmode: mode as SslMode | undefined, sslrootcert: params.get('sslrootcert') ?? undefined };
}

/** `127.0.0.1:5432`, and ` (sslmode=verify-full)` when the URL names one: how messages name the server. */
function serverLabel(url: string): { target: string; mode: string } {
  const u = new URL(url);
  const { sslmode } = sslSettings(url);
  return { target: `${u.hostname}:${u.port || '5432'}`, mode: sslmode ? ` (sslmode=${sslmode})` : '' };
}

const TLS_FIXES: Partial<Record<TlsFailureKind, string>> = {
  'unknown-ca': 'set sslrootcert to the CA file that signed the server certificate',
  hostname: 'connect by a name the certificate lists, or use sslmode=verify-ca to check the chain only',
  'tls-to-plain': 'use sslmode=disable or a port that serves TLS',
  'client-cert': 'give sslcert and sslkey of a client certificate the server trusts',
};

/**
 * The driver's client config for a URL, with libpq's sslmode meanings (pg-connection-string's
 * libpq mode): `require` encrypts without verifying (a given sslrootcert makes it `verify-ca`),
 * `verify-ca` checks the chain, `verify-full` the chain and the host name. `allow` and `prefer`
 * start plain and with TLS respectively; connectPg falls back to the other as libpq does.
 */
export function pgClientConfig(url: string, tls: 'url' | 'off' | 'unverified' = 'url'): pg.ClientConfig {
  parseDatabaseUrl(url);
  const u = new URL(url);
  const { sslmode } = sslSettings(url);
  if (sslmode !== undefined && !(SSL_MODES as readonly string[]).includes(sslmode))
    throw new UserError('BAD_DATABASE_URL', `The database URL "${redactUrl(url)}" has sslmode=${sslmode}, which libpq does not know.`, {
      hint: `Use one of ${SSL_MODES.join(', ')}.`,
    });
  // libpq 16's sslrootcert=system: Node's bundled CAs, and verify-full.
  if (u.searchParams.get('sslrootcert') === 'system') {
    u.searchParams.delete('sslrootcert');
    if (sslmode !== 'verify-full') u.searchParams.set('sslmode', 'verify-full');
  }
  // pg-connection-string knows no `allow`: it starts plain here.
  if (sslmode === 'allow') u.searchParams.set('sslmode', tls === 'unverified' ? 'require' : 'disable');
  if (tls === 'off') u.searchParams.set('sslmode', 'disable');
  const explicit = u.searchParams.has('uselibpqcompat');
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(u.toString(), explicit ? {} : { useLibpqCompat: true });
  } catch (error) {
    const message = (error as Error).message;
    const file = /open '([^']+)'/.exec(message)?.[1];
    throw new UserError(
      'BAD_DATABASE_URL',
      file
        ? `Cannot read ${file}, named by the database URL "${redactUrl(url)}": ${(error as NodeJS.ErrnoException).code ?? message}.`
        : /verify-ca requires specifying a CA/.test(message)
          ? `The database URL "${redactUrl(url)}" has sslmode=verify-ca without sslrootcert: there is nothing to verify the chain against.`
          : `The database URL "${redactUrl(url)}" cannot be used: ${message.replace(/\.$/, '')}.`,
      { hint: 'sslrootcert, sslcert and sslkey name PEM files; verify-ca and verify-full need sslrootcert (or sslrootcert=system).', cause: error },
    );
  }
  return toClientConfig(parsed);
}

/** Turns a driver error into one sentence naming the server (and its sslmode), with a hint. */
export function describeConnectError(url: string, error: unknown): EnvironmentError {
  const e = error as { code?: string; message?: string };
  const { target, mode } = serverLabel(url);
  const db = decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  const user = decodeURIComponent(new URL(url).username) || 'postgres';
  const hint = "Check --database-url / DATABASE_URL, or omit both to use the stack's own PostgreSQL.";
  const message = (e.message ?? '').replace(/\.$/, '');
  switch (e.code) {
    case '28P01':
      return new EnvironmentError('DB_AUTH', `PostgreSQL at ${target}${mode} rejected the credentials: ${message}; check the user and password in the URL.`, {
        hint,
        cause: error,
      });
    case '28000':
      if (/no encryption/.test(message))
        return new EnvironmentError(
          'DB_TLS_REQUIRED',
          `PostgreSQL at ${target}${mode} accepts ${user} only over TLS (${message}); add sslmode=require (or verify-full with sslrootcert) to the URL.`,
          { hint, cause: error },
        );
      if (/client certificate/.test(message))
        return new EnvironmentError(
          'DB_AUTH',
          `PostgreSQL at ${target}${mode} wants a client certificate for ${user} (${message}); add sslcert and sslkey of a certificate it trusts to the URL.`,
          { hint, cause: error },
        );
      return new EnvironmentError('DB_AUTH', `PostgreSQL at ${target}${mode} rejected the credentials: ${message}.`, { hint, cause: error });
    case '3D000':
      return new EnvironmentError('DB_MISSING', `PostgreSQL at ${target} has no database "${db}".`, {
        hint: 'Create it first, or name an existing one in the URL.',
        cause: error,
      });
  }
  if (/server does not support SSL/i.test(message))
    return new EnvironmentError(
      'DB_TLS_UNSUPPORTED',
      `PostgreSQL at ${target}${mode} does not accept TLS connections; turn ssl on in the server, or use sslmode=prefer or disable.`,
      { hint, cause: error },
    );
  const tls = classifyTlsError(error, { caFile: sslSettings(url).sslrootcert, usingTls: true });
  if (tls)
    return new EnvironmentError('DB_TLS', `Cannot connect securely to PostgreSQL at ${target}${mode}: ${tls.reason}; ${TLS_FIXES[tls.kind] ?? tls.fix}.`, {
      hint,
      cause: error,
    });
  return new EnvironmentError('DB_UNREACHABLE', `Cannot connect to PostgreSQL at ${target}${mode}: ${networkReason(error)}.`, { hint, cause: error });
}

export interface ConnectOptions {
  connectTimeoutMs?: number;
  applicationName?: string;
}

/** A connected client, or an EnvironmentError that names the server. */
export async function connectPg(url: string, options: ConnectOptions = {}): Promise<PgClient> {
  const { sslmode } = sslSettings(parseDatabaseUrl(url).toString());
  const attempt = async (tls: 'url' | 'off' | 'unverified'): Promise<PgClient> => {
    // The URL's own parameters (application_name…) win, as they did with a connection string.
    const client = new (loadPg().Client)({
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: options.applicationName ?? 'outboxctl',
      ...pgClientConfig(url, tls),
    });
    // An idle client whose server goes away must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  };
  try {
    return await attempt('url');
  } catch (error) {
    if (error instanceof CliError) throw error;
    // libpq's fallbacks: `prefer` goes plain when the server has no TLS, `allow` goes TLS when it wants it.
    const message = (error as Error).message ?? '';
    const fallback =
      sslmode === 'prefer' && /server does not support SSL/i.test(message)
        ? 'off'
        : sslmode === 'allow' && (error as { code?: string }).code === '28000' && /no encryption/.test(message)
          ? 'unverified'
          : undefined;
    if (fallback) {
      try {
        return await attempt(fallback);
      } catch (second) {
        throw describeConnectError(url, second);
      }
    }
    throw describeConnectError(url, error);
  }
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
  // libpq's sslmode meanings, as connectPg has them (`prefer` is TLS without verification, without the plain fallback).
  const pool = new (loadPg().Pool)({
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: options.applicationName ?? 'outboxctl',
    ...pgClientConfig(url),
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

export const quoteIdent = (name: string): string => loadPg().escapeIdentifier(name);
export const quoteLiteral = (value: string): string => loadPg().escapeLiteral(value);
