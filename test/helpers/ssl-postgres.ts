import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../src/stack/ports.js';
import { asUnprivileged, initCluster, postgresBinaries } from '../../src/stack/runtimes/native/embedded-postgres.js';
import { makeTestCertificates, type TestCertificates } from './certs.js';

/**
 * An embedded PostgreSQL with `ssl=on` and a certificate of the test CA (SANs 127.0.0.1 and
 * localhost). It listens on localhost and 127.0.0.2 (a name the certificate lacks), on one port.
 *
 * Who may connect how (pg_hba.conf):
 * - the superuser `postgres`: password (SCRAM), with or without TLS;
 * - `role` (password-protected, no superuser, owns the `outbox` database): password, over TLS only —
 *   a plain connection is refused with "no pg_hba.conf entry … no encryption";
 * - `outboxctl-client` (the CN of certs.clientCert): TLS client certificate, no password.
 */
export interface SslPostgres {
  port: number;
  certs: TestCertificates;
  /** `postgres://postgres:…@127.0.0.1:PORT/outbox`, no sslmode: append `?sslmode=…` as a test needs. */
  superuserUrl: string;
  /** The password-protected, TLS-only role. */
  role: { username: string; password: string };
  /**
   * A URL to the `outbox` database: `who` (default `role`), `host` (default 127.0.0.1), `password`
   * (default the right one) and libpq parameters (sslmode, sslrootcert, sslcert, sslkey…).
   */
  url(options?: { who?: 'superuser' | 'role' | 'client-cert'; host?: string; password?: string; params?: Record<string, string> }): string;
  /** The last lines of the server log. */
  logTail(lines?: number): Promise<string>;
  /** Fast shutdown (SIGINT), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

export interface SslPostgresOptions {
  /** Data directory, certificates (unless given), log: all under it. */
  dir: string;
  certs?: TestCertificates;
  port?: number;
  /** Default 60 s. */
  startTimeoutMs?: number;
  /** false: the same server with ssl=off and every role by password over plain TCP ("a server without SSL"). Default true. */
  ssl?: boolean;
  /** More server settings, `NAME=VALUE` each (as postgresComponent.settings: `wal_level=logical` for Debezium). */
  settings?: readonly string[];
}

const SUPERUSER = 'postgres';
const SUPERUSER_PASSWORD = 'ssl-postgres-superuser';
const ROLE = 'outbox_app';
const ROLE_PASSWORD = 'ssl-postgres-app';
const CLIENT_CERT_ROLE = 'outboxctl-client';

const HBA = `# Written by test/helpers/ssl-postgres.ts
local all all trust
hostssl all ${CLIENT_CERT_ROLE} 127.0.0.0/8 cert
hostssl all ${CLIENT_CERT_ROLE} ::1/128 cert
host all ${SUPERUSER} 127.0.0.0/8 scram-sha-256
host all ${SUPERUSER} ::1/128 scram-sha-256
hostssl all all 127.0.0.0/8 scram-sha-256
hostssl all all ::1/128 scram-sha-256
`;

const PLAIN_HBA = `# Written by test/helpers/ssl-postgres.ts (ssl=off)
local all all trust
host all all 127.0.0.0/8 scram-sha-256
host all all ::1/128 scram-sha-256
`;

/** Starts it (initdb, certificates, roles); a few seconds. */
export async function startSslPostgres(options: SslPostgresOptions): Promise<SslPostgres> {
  await mkdir(options.dir, { recursive: true });
  const certs = options.certs ?? (await makeTestCertificates(path.join(options.dir, 'certs')));
  const dataDir = path.join(options.dir, 'data');
  const logFile = path.join(options.dir, 'postgres.log');
  const port = options.port ?? (await freePort());
  await initCluster(dataDir, SUPERUSER, SUPERUSER_PASSWORD);
  const ssl = options.ssl ?? true;
  await writeFile(path.join(dataDir, 'pg_hba.conf'), ssl ? HBA : PLAIN_HBA);
  // PostgreSQL refuses a key others can read; in the data directory it is the server's own file.
  await copyFile(certs.serverCert, path.join(dataDir, 'server.crt'));
  await copyFile(certs.serverKey, path.join(dataDir, 'server.key'));
  await copyFile(certs.caCert, path.join(dataDir, 'root.crt'));
  await chmod(path.join(dataDir, 'server.key'), 0o600);

  const { postgres } = await postgresBinaries();
  const [command, args] = asUnprivileged(postgres, [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=localhost,127.0.0.2',
    '-c',
    'unix_socket_directories=',
    ...(ssl ? ['-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key', '-c', 'ssl_ca_file=root.crt'] : ['-c', 'ssl=off']),
    '-c',
    'max_connections=40',
    ...(options.settings ?? []).flatMap((setting) => ['-c', setting]),
  ]);
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', out, out], env: { ...process.env, LC_MESSAGES: 'C' } });
  } finally {
    closeSync(out);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logTail = async (lines = 30) => (await readFile(logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const killed = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
    if (killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const superuserUrl = (database: string) => `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/${database}`;
  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      const client = new pg.Client({ connectionString: superuserUrl('postgres'), connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE_PASSWORD}'`);
        await client.query(`CREATE ROLE "${CLIENT_CERT_ROLE}" LOGIN`);
        await client.query(`CREATE DATABASE outbox OWNER ${ROLE}`);
        await client.query(`GRANT CONNECT ON DATABASE outbox TO "${CLIENT_CERT_ROLE}"`);
        break;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`PostgreSQL with ssl=${ssl ? 'on' : 'off'} did not start on port ${port}: ${(error as Error).message}\n${await logTail()}`);
        await sleep(200);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port,
    certs,
    superuserUrl: superuserUrl('outbox'),
    role: { username: ROLE, password: ROLE_PASSWORD },
    url({ who = 'role', host = '127.0.0.1', password, params = {} } = {}) {
      const user = who === 'superuser' ? SUPERUSER : who === 'role' ? ROLE : CLIENT_CERT_ROLE;
      const secret = password ?? (who === 'superuser' ? SUPERUSER_PASSWORD : who === 'role' ? ROLE_PASSWORD : '');
      const query = new URLSearchParams(params).toString();
      return `postgres://${encodeURIComponent(user)}${secret ? `:${encodeURIComponent(secret)}` : ''}@${host}:${port}/outbox${query ? `?${query}` : ''}`;
    },
    logTail,
    stop,
  };
}
