import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/clients/connect.js';
import { SearchClient } from '../../src/clients/search.js';
import type { HttpTarget } from '../../src/lib/targets.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { BIN, spawnCli } from '../helpers/cli.js';
import { type AuthConnect, startAuthConnect } from '../helpers/secure-connect.js';
import { startTlsSearchProxy, type TlsProxy } from '../helpers/tls-search-proxy.js';

// Basic auth and TLS against a real Kafka Connect (Kafka's basic-auth REST extension, plain and TLS
// listeners) and a real Elasticsearch behind nginx (TLS + basic auth): what works, and every
// misconfiguration as one sentence naming the system, the endpoint and the auth method, exit 1.

const USER = 'alice';
const PASSWORD = 'c0nnect-s3cret';

let dir: string;
let home: string;
let certs: TestCertificates;
let connect: AuthConnect;
let proxy: TlsProxy;
let elasticsearchUrl: string;
let auditing: ResultPromise | undefined;

/** The CLI in an empty home (no stack) and an empty config directory (no context), plus `env`. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnCli(argv, { OUTBOXCTL_HOME: path.join(dir, 'cli-home'), XDG_CONFIG_HOME: path.join(dir, 'cli-config'), NODE_EXTRA_CA_CERTS: '', ...env });
}

/** The sentence of a failed command: stderr's first line without "error: ". */
const sentence = (stderr: string) => stderr.split('\n')[0]!.replace(/^error: /, '');

/** A URL with credentials in its userinfo. */
const withUser = (url: string, user: string, password: string) => url.replace('://', `://${user}:${encodeURIComponent(password)}@`);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-http-auth-'));
  home = path.join(dir, 'stack-home');
  await mkdir(path.join(dir, 'cli-config'), { recursive: true });
  certs = await makeTestCertificates(path.join(dir, 'certs'));
  // A plain Kafka and Elasticsearch of their own, on free ports when the usual ones are taken.
  // Other suites start services too: a port taken while ours started asks for another `up` (it picks a free one).
  for (let attempt = 1; ; attempt++) {
    const up = await spawnCli(['up', '--services', 'kafka,elasticsearch'], { OUTBOXCTL_HOME: home });
    if (up.code === 0) break;
    if (attempt === 3 || !/was taken by another process/.test(up.stderr)) throw new Error(`up failed:\n${up.stderr}`);
  }
  const status = await spawnCli(['status', '--json'], { OUTBOXCTL_HOME: home });
  const endpoints = (JSON.parse(status.stdout) as { endpoints: Record<string, string> }).endpoints;
  elasticsearchUrl = endpoints.elasticsearch!;
  [connect, proxy] = await Promise.all([
    startAuthConnect({ dir: path.join(dir, 'connect'), bootstrap: endpoints.kafka!, username: USER, password: PASSWORD, tls: certs }),
    startTlsSearchProxy({ dir: path.join(dir, 'proxy'), upstream: elasticsearchUrl, certs }),
  ]);
});

afterAll(async () => {
  auditing?.kill('SIGTERM');
  await auditing?.catch(() => undefined);
  await connect?.stop();
  await proxy?.stop();
  if (home) await spawnCli(['down', '--volumes'], { OUTBOXCTL_HOME: home });
  await rm(dir, { recursive: true, force: true });
});

describe('Kafka Connect with basic auth', () => {
  it('`connectors list` works with the credentials in the URL', async () => {
    const result = await run(['connectors', 'list', '--connect-url', withUser(connect.url, USER, PASSWORD), '--json']);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(expect.anything());
  });

  it('the client takes an HttpTarget: basic auth over http, basic auth + CA over https', async () => {
    expect(await new ConnectClient(connect.target).names()).toEqual([]);
    const plugins = await new ConnectClient(connect.httpsTarget!).plugins();
    expect(plugins.map((p) => p.class)).toContain('io.debezium.connector.postgresql.PostgresConnector');
    // Credentials in the URL mean the same; the client's url never carries them.
    const client = new ConnectClient({ url: withUser(connect.httpsUrl!, USER, PASSWORD), tls: { caFile: certs.caCert } });
    expect(client.url).toBe(connect.httpsUrl);
    expect(await client.names()).toEqual([]);
    // Jetty checks the host against its certificate itself (SNI host check): verifyHostname false does not get past it.
    await expect(
      new ConnectClient({ ...connect.httpsTarget!, url: connect.mismatchedUrl!, tls: { caFile: certs.caCert, verifyHostname: false } }).names(),
    ).rejects.toThrow(
      `Cannot connect securely to Kafka Connect at ${connect.mismatchedUrl} (basic auth as ${USER}): it refused the host name it was reached at (HTTP 400 Invalid SNI); use a host name the certificate lists.`,
    );
  });

  it('a wrong password is one sentence, exit 1', async () => {
    const result = await run(['connectors', 'list', '--connect-url', withUser(connect.url, USER, 'wrong')]);
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(`Kafka Connect at ${connect.url} rejected basic auth as ${USER} (HTTP 401): check the username and password.`);
    expect(result.stderr).not.toContain('wrong');
  });

  it('no credentials is one sentence, exit 1', async () => {
    const result = await run(['connectors', 'list', '--connect-url', connect.url]);
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `Kafka Connect at ${connect.url} rejected the request without credentials (HTTP 401): it requires credentials; give a username and password (or an API key).`,
    );
  });

  it('an unknown certificate authority is one sentence, exit 1', async () => {
    const result = await run(['connectors', 'list', '--connect-url', withUser(connect.httpsUrl!, USER, PASSWORD)]);
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `Cannot connect securely to Kafka Connect at ${connect.httpsUrl} (basic auth as ${USER}): its certificate is not signed by Node's bundled CAs (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust the CA that signed the server certificate (a context's --connect-ca FILE).`,
    );
    await expect(new ConnectClient({ ...connect.httpsTarget!, tls: { caFile: certs.otherCaCert } }).names()).rejects.toThrow(
      `its certificate is not signed by the CA in ${certs.otherCaCert} (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
  });

  it('http:// against the TLS port and https:// against the plain port are one sentence each, exit 1', async () => {
    const plainAtTls = await run(['connectors', 'list', '--connect-url', withUser(connect.httpsUrl!.replace('https:', 'http:'), USER, PASSWORD)]);
    expect(plainAtTls.code).toBe(1);
    expect(sentence(plainAtTls.stderr)).toBe(
      `Cannot connect to Kafka Connect at http://127.0.0.1:${connect.tlsPort} (basic auth as ${USER}): it speaks TLS on this port; use https://.`,
    );
    const tlsAtPlain = await run(['connectors', 'list', '--connect-url', withUser(connect.url.replace('http:', 'https:'), USER, PASSWORD)]);
    expect(tlsAtPlain.code).toBe(1);
    expect(sentence(tlsAtPlain.stderr)).toBe(
      `Cannot connect securely to Kafka Connect at https://127.0.0.1:${connect.port} (basic auth as ${USER}): it does not speak TLS on this port; use http:// for a plain port, or the port that serves TLS.`,
    );
  });

  it('a host name the certificate lacks is one sentence, exit 1 (the CA trusted through NODE_EXTRA_CA_CERTS)', async () => {
    const ok = await run(['connectors', 'list', '--connect-url', withUser(connect.httpsUrl!, USER, PASSWORD)], { NODE_EXTRA_CA_CERTS: certs.caCert });
    expect(ok.code).toBe(0);
    const result = await run(['connectors', 'list', '--connect-url', withUser(connect.mismatchedUrl!, USER, PASSWORD)], { NODE_EXTRA_CA_CERTS: certs.caCert });
    expect(result.code).toBe(1);
    expect(sentence(result.stderr)).toBe(
      `Cannot connect securely to Kafka Connect at ${connect.mismatchedUrl} (basic auth as ${USER}): its certificate does not name the host (IP: 127.0.0.2 is not in the cert's list: 127.0.0.1); use a host name the certificate lists, or have the certificate reissued with this one.`,
    );
  });
});

describe('Elasticsearch behind a TLS proxy with basic auth', () => {
  it('SearchClient with basic auth and the CA indexes, searches and counts', async () => {
    const client = await SearchClient.connect(proxy.target, { deadlineMs: 30_000 });
    try {
      expect(client.url).toBe(proxy.url);
      expect(client.engine.distribution).toBe('elasticsearch');
      const results = await client.bulkIndex(
        'http-auth-test',
        [
          { id: 'a', doc: { kind: 'x' } },
          { id: 'b', doc: { kind: 'y' } },
        ],
        { refresh: true },
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(await client.count('http-auth-test')).toBe(2);
      const found = await client.search('http-auth-test', { query: { term: { kind: 'y' } } });
      expect(found.hits.map((h) => h.id)).toEqual(['b']);
    } finally {
      await client.close();
    }
    // verifyHostname false accepts the address the certificate lacks, on the same chain.
    expect(await SearchClient.detect({ ...proxy.target, url: proxy.mismatchedUrl, tls: { caFile: certs.caCert, verifyHostname: false } })).toMatchObject({
      distribution: 'elasticsearch',
    });
    // The same with the credentials in the URL.
    expect(await SearchClient.detect({ url: withUser(proxy.url, proxy.username, proxy.password), tls: { caFile: certs.caCert } })).toMatchObject({
      distribution: 'elasticsearch',
    });
  });

  /** SearchClient.connect's failure: its message, and that it came before the retry deadline. */
  async function failure(target: HttpTarget): Promise<string> {
    const error = await SearchClient.connect(target, { deadlineMs: 20_000 }).then(
      (c) => {
        void c.close();
        return new Error('connected');
      },
      (e: Error) => e,
    );
    expect((error as { code?: string }).code).not.toBe('SEARCH_UNREACHABLE');
    return error.message;
  }

  it('a wrong password, no credentials and a wrong API key are one sentence each', async () => {
    expect(await failure({ ...proxy.target, basic: { username: proxy.username, password: 'wrong' } })).toBe(
      `The search engine at ${proxy.url} rejected basic auth as ${proxy.username} (HTTP 401): check the username and password.`,
    );
    expect(await failure({ ...proxy.target, basic: undefined })).toBe(
      `The search engine at ${proxy.url} rejected the request without credentials (HTTP 401): it requires credentials; give a username and password (or an API key).`,
    );
    expect(await failure({ ...proxy.target, basic: undefined, apiKey: Buffer.from('id:key').toString('base64') })).toBe(
      `The search engine at ${proxy.url} rejected an API key (HTTP 401): check the API key.`,
    );
  });

  it('an unknown CA, a host name mismatch, http:// at the TLS port and https:// at a plain port are one sentence each', async () => {
    expect(await failure({ ...proxy.target, tls: undefined })).toBe(
      `Cannot connect securely to the search engine at ${proxy.url} (basic auth as ${proxy.username}): its certificate is not signed by Node's bundled CAs (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust the CA that signed the server certificate (a context's --elasticsearch-ca FILE).`,
    );
    expect(await failure({ ...proxy.target, url: proxy.mismatchedUrl })).toMatch(
      /^Cannot connect securely to the search engine at https:\/\/127\.0\.0\.2:\d+ \(basic auth as elastic\): its certificate does not name the host \(.*127\.0\.0\.2.*\); use a host name the certificate lists/,
    );
    // nginx answers plain HTTP at its TLS port with a 400 page.
    expect(await failure({ ...proxy.target, url: proxy.url.replace('https:', 'http:') })).toBe(
      `Cannot connect to the search engine at ${proxy.url.replace('https:', 'http:')} (basic auth as ${proxy.username}): it speaks TLS on this port; use https://.`,
    );
    const plainHttps = elasticsearchUrl.replace('http:', 'https:');
    expect(await failure({ url: plainHttps })).toBe(
      `Cannot connect securely to the search engine at ${plainHttps} (no auth): it does not speak TLS on this port; use http:// for a plain port, or the port that serves TLS.`,
    );
  });

  it('`serve auditing` with the credentials in the URL answers /stats through the proxy', async () => {
    auditing = execa(BIN, ['serve', 'auditing', '--port', '0', '--elasticsearch-url', withUser(proxy.url, proxy.username, proxy.password)], {
      env: { OUTBOXCTL_HOME: path.join(dir, 'cli-home'), XDG_CONFIG_HOME: path.join(dir, 'cli-config'), NODE_EXTRA_CA_CERTS: certs.caCert, NO_COLOR: '1' },
      reject: false,
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      auditing!.stdout?.on('data', (chunk: Buffer) => {
        out += chunk;
        const m = /^(http:\/\/\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      void auditing!.then((r) => reject(new Error(`serve auditing exited: ${r.stderr}`)));
    });
    const stats = await fetch(`${url}/stats`);
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ events: { total: expect.any(Number) }, parcels: { total: expect.any(Number) } });
    const health = (await (await fetch(`${url}/health`)).json()) as { engine: { url: string } };
    expect(health.engine.url).toBe(proxy.url);
  });
});

describe('through a context (CA, credentials from the environment)', () => {
  const secrets = { CONNECT_PW: PASSWORD, WRONG_PW: 'wrong', ES_PW: '', BAD_KEY: Buffer.from('id:nope').toString('base64') };
  const ctxRun = (argv: string[]) => run(argv, { ...secrets, ES_PW: proxy.password });

  async function create(name: string, flags: string[]) {
    const result = await ctxRun(['context', 'create', name, '--force', ...flags]);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
  }

  /** `status --check --json` under a context: exit code and each endpoint's error message. */
  async function status(name: string) {
    const result = await ctxRun(['--context', name, 'status', '--check', '--json']);
    const doc = JSON.parse(result.stdout) as { endpoints: { name: string; reachable: boolean; error: { message: string } | null }[] };
    return { code: result.code, errors: Object.fromEntries(doc.endpoints.map((e) => [e.name, e.error?.message ?? null])) };
  }

  it('a context with the CA and the credentials works for connectors and status', async () => {
    await create('good', [
      ...['--connect-url', connect.httpsUrl!, '--connect-username', USER, '--connect-password', 'env:CONNECT_PW', '--connect-ca', certs.caCert],
      ...[
        '--elasticsearch-url',
        proxy.url,
        '--elasticsearch-username',
        proxy.username,
        '--elasticsearch-password',
        'env:ES_PW',
        '--elasticsearch-ca',
        certs.caCert,
      ],
    ]);
    const list = await ctxRun(['--context', 'good', 'connectors', 'list', '--json']);
    expect(list.stderr).not.toMatch(/^error:/m);
    expect(list.code).toBe(0);
    expect(await status('good')).toEqual({ code: 0, errors: { connect: null, elasticsearch: null } });
  });

  it('the wrong CA, password, API key or host are one sentence each, exit 1', async () => {
    await create('other-ca', [
      ...['--connect-url', connect.httpsUrl!, '--connect-username', USER, '--connect-password', 'env:CONNECT_PW', '--connect-ca', certs.otherCaCert],
      ...[
        '--elasticsearch-url',
        proxy.url,
        '--elasticsearch-username',
        proxy.username,
        '--elasticsearch-password',
        'env:ES_PW',
        '--elasticsearch-ca',
        certs.otherCaCert,
      ],
    ]);
    const list = await ctxRun(['--context', 'other-ca', 'connectors', 'list']);
    expect(list.code).toBe(1);
    expect(sentence(list.stderr)).toBe(
      `Cannot connect securely to Kafka Connect at ${connect.httpsUrl} (basic auth as ${USER}): its certificate is not signed by the CA in ${certs.otherCaCert} (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust the CA that signed the server certificate instead (a context's --connect-ca FILE).`,
    );
    expect((await status('other-ca')).errors.elasticsearch).toBe(
      `Cannot connect securely to the search engine at ${proxy.url} (basic auth as ${proxy.username}): its certificate is not signed by the CA in ${certs.otherCaCert} (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust the CA that signed the server certificate instead (a context's --elasticsearch-ca FILE).`,
    );

    await create('wrong-secrets', [
      ...['--connect-url', connect.httpsUrl!, '--connect-username', USER, '--connect-password', 'env:WRONG_PW', '--connect-ca', certs.caCert],
      ...['--elasticsearch-url', proxy.url, '--elasticsearch-api-key', 'env:BAD_KEY', '--elasticsearch-ca', certs.caCert],
    ]);
    const wrong = await status('wrong-secrets');
    expect(wrong).toEqual({
      code: 1,
      errors: {
        connect: `Kafka Connect at ${connect.httpsUrl} rejected basic auth as ${USER} (HTTP 401): check the username and password.`,
        elasticsearch: `The search engine at ${proxy.url} rejected an API key (HTTP 401): check the API key.`,
      },
    });

    await create('mismatch', [
      ...['--connect-url', connect.mismatchedUrl!, '--connect-username', USER, '--connect-password', 'env:CONNECT_PW', '--connect-ca', certs.caCert],
      ...[
        '--elasticsearch-url',
        proxy.mismatchedUrl,
        '--elasticsearch-username',
        proxy.username,
        '--elasticsearch-password',
        'env:ES_PW',
        '--elasticsearch-ca',
        certs.caCert,
      ],
    ]);
    const mismatch = await status('mismatch');
    expect(mismatch.code).toBe(1);
    expect(mismatch.errors.connect).toMatch(
      /^Cannot connect securely to Kafka Connect at https:\/\/127\.0\.0\.2:\d+ \(basic auth as alice\): its certificate does not name the host/,
    );
    expect(mismatch.errors.elasticsearch).toMatch(
      /^Cannot connect securely to the search engine at https:\/\/127\.0\.0\.2:\d+ \(basic auth as elastic\): its certificate does not name the host/,
    );
  });
});
