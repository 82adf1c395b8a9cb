import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, createPgPool } from '../../src/clients/pg.js';
import { spawnCli } from '../helpers/cli.js';
import { type SslPostgres, startSslPostgres } from '../helpers/ssl-postgres.js';

// libpq's sslmode meanings against a real PostgreSQL with ssl=on, and the same with ssl=off for "no SSL".
let dir: string;
let server: SslPostgres;
let plain: SslPostgres | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-pg-ssl-'));
  [server, plain] = await Promise.all([startSslPostgres({ dir: path.join(dir, 'ssl') }), startSslPostgres({ dir: path.join(dir, 'plain'), ssl: false })]);
});

afterAll(async () => {
  await server?.stop();
  await plain?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `outboxctl db info` against a URL, in a home of its own (no stack). */
async function dbInfo(url: string) {
  return spawnCli(['db', 'info', '--database-url', url], { OUTBOXCTL_HOME: path.join(dir, 'home'), PATH: process.env.PATH, HOME: process.env.HOME });
}

/** The sentence of a failed command: stderr's first line without "error: ". */
const sentence = (stderr: string) => stderr.split('\n')[0]!.replace(/^error: /, '');

async function serverSsl(url: string): Promise<boolean> {
  const client = await connectPg(url, { connectTimeoutMs: 5_000 });
  try {
    const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]!.ssl;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL sslmode, as libpq means it', () => {
  it('verify-full with the right CA connects over TLS, through the CLI and the pool', async () => {
    const url = server.url({ params: { sslmode: 'verify-full', sslrootcert: server.certs.caCert } });
    const result = await dbInfo(url);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
    expect(await serverSsl(url)).toBe(true);
    const pool = createPgPool(url, { max: 1 });
    try {
      expect((await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]!.ssl).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('verify-full with another CA fails as one sentence naming the server, sslmode and CA', async () => {
    const url = server.url({ params: { sslmode: 'verify-full', sslrootcert: server.certs.otherCaCert } });
    const result = await dbInfo(url);
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `Cannot connect securely to PostgreSQL at 127.0.0.1:${server.port} (sslmode=verify-full): its certificate is not signed by the CA in ${server.certs.otherCaCert} (SELF_SIGNED_CERT_IN_CHAIN); set sslrootcert to the CA file that signed the server certificate.`,
    );
  });

  it('verify-full checks the host name: localhost is in the certificate, 127.0.0.2 is not', async () => {
    const params = { sslmode: 'verify-full', sslrootcert: server.certs.caCert };
    expect(await serverSsl(server.url({ host: 'localhost', params }))).toBe(true);
    const result = await dbInfo(server.url({ host: '127.0.0.2', params }));
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toMatch(
      new RegExp(
        `^Cannot connect securely to PostgreSQL at 127\\.0\\.0\\.2:${server.port} \\(sslmode=verify-full\\): its certificate does not name the host \\(.*127\\.0\\.0\\.2.*\\); connect by a name the certificate lists, or use sslmode=verify-ca to check the chain only\\.$`,
      ),
    );
    // verify-ca checks the chain only: the same address connects.
    expect(await serverSsl(server.url({ host: '127.0.0.2', params: { ...params, sslmode: 'verify-ca' } }))).toBe(true);
  });

  it('require without a root certificate encrypts without verifying (libpq), and sslrootcert turns it into verify-ca', async () => {
    expect(await serverSsl(server.url({ host: '127.0.0.2', params: { sslmode: 'require' } }))).toBe(true);
    expect((await dbInfo(server.url({ params: { sslmode: 'require' } }))).code).toBe(0);
    await expect(connectPg(server.url({ params: { sslmode: 'require', sslrootcert: server.certs.otherCaCert } }))).rejects.toThrow(
      /^Cannot connect securely to PostgreSQL at .* \(sslmode=require\): its certificate is not signed by the CA in /,
    );
  });

  it('a client certificate logs in without a password (sslcert/sslkey)', async () => {
    const url = server.url({
      who: 'client-cert',
      params: { sslmode: 'verify-full', sslrootcert: server.certs.caCert, sslcert: server.certs.clientCert, sslkey: server.certs.clientKey },
    });
    expect(await serverSsl(url)).toBe(true);
    const without = await dbInfo(server.url({ who: 'client-cert', params: { sslmode: 'verify-full', sslrootcert: server.certs.caCert } }));
    expect(without.code).toBe(1);
    expect(sentence(without.stderr)).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} (sslmode=verify-full) wants a client certificate for outboxctl-client (connection requires a valid client certificate); add sslcert and sslkey of a certificate it trusts to the URL.`,
    );
  });

  it('a TLS-only role over a plain connection fails as one sentence; prefer and allow find TLS', async () => {
    const result = await dbInfo(server.url({ params: { sslmode: 'disable' } }));
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} (sslmode=disable) accepts outbox_app only over TLS (no pg_hba.conf entry for host "127.0.0.1", user "outbox_app", database "outbox", no encryption); add sslmode=require (or verify-full with sslrootcert) to the URL.`,
    );
    expect(await serverSsl(server.url({ params: { sslmode: 'prefer' } }))).toBe(true);
    expect(await serverSsl(server.url({ params: { sslmode: 'allow' } }))).toBe(true);
  });

  it('a wrong password fails as one sentence', async () => {
    const result = await dbInfo(server.url({ password: 'wrong', params: { sslmode: 'verify-full', sslrootcert: server.certs.caCert } }));
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} (sslmode=verify-full) rejected the credentials: password authentication failed for user "outbox_app"; check the user and password in the URL.`,
    );
  });

  it('a missing sslrootcert file and verify-ca without one are usage sentences', async () => {
    const missing = path.join(dir, 'nope.pem');
    const result = await dbInfo(server.url({ params: { sslmode: 'verify-full', sslrootcert: missing } }));
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `Cannot read ${missing}, named by the database URL "${server.url({ password: '****', params: { sslmode: 'verify-full', sslrootcert: missing } })}": ENOENT.`,
    );
    await expect(connectPg(server.url({ params: { sslmode: 'verify-ca' } }))).rejects.toThrow(/has sslmode=verify-ca without sslrootcert/);
  });
});

describe('PostgreSQL without ssl', () => {
  it('require against a server without TLS fails as one sentence; prefer falls back to plain', async () => {
    const u = new URL(plain!.url());
    u.searchParams.set('sslmode', 'require');
    const result = await dbInfo(u.toString());
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `PostgreSQL at ${u.hostname}:${u.port} (sslmode=require) does not accept TLS connections; turn ssl on in the server, or use sslmode=prefer or disable.`,
    );
    u.searchParams.set('sslmode', 'prefer');
    expect(await serverSsl(u.toString())).toBe(false);
  });
});
