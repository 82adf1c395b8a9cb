import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/clients/connect.js';
import { SearchClient } from '../../src/clients/search.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';

// The clients' auth and TLS against in-process servers: a TLS server that wants basic auth or an
// API key, a plain one, and a socket that never answers (no request may hang).

let dir: string;
let certs: TestCertificates;
const servers: (Server | net.Server)[] = [];
let tlsUrl: string;
let plainUrl: string;
let silentUrl: string;
const seen: string[] = [];
const sockets: net.Socket[] = [];

const BASIC = `Basic ${Buffer.from('alice:right').toString('base64')}`;

function handler(req: IncomingMessage, res: ServerResponse) {
  seen.push(req.headers.authorization ?? '');
  if (req.headers.authorization !== BASIC && req.headers.authorization !== 'ApiKey a2V5') {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":401,"message":"User cannot access the resource."}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(req.url === '/' ? '{"version":{"number":"7.10.2"}}' : '[]');
}

async function listen(server: Server | net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-auth-unit-'));
  certs = await makeTestCertificates(dir);
  const tls = createHttpsServer({ cert: await readFile(certs.serverCert), key: await readFile(certs.serverKey) }, handler);
  tlsUrl = `https://127.0.0.1:${await listen(tls)}`;
  plainUrl = `http://127.0.0.1:${await listen(createHttpServer(handler))}`;
  // Accepts and never answers.
  silentUrl = `http://127.0.0.1:${await listen(net.createServer((socket) => sockets.push(socket)))}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const s of servers) {
    (s as Server).closeAllConnections?.();
    await new Promise((resolve) => s.close(resolve));
  }
  await rm(dir, { recursive: true, force: true });
});

describe('ConnectClient with an HttpTarget', () => {
  it('sends basic auth from `basic` or the userinfo, with the CA', async () => {
    seen.length = 0;
    expect(await new ConnectClient({ url: tlsUrl, basic: { username: 'alice', password: 'right' }, tls: { caFile: certs.caCert } }).names()).toEqual([]);
    const fromUrl = new ConnectClient({ url: tlsUrl.replace('://', '://alice:right@'), tls: { caFile: certs.caCert } });
    expect(fromUrl.url).toBe(tlsUrl);
    expect(await fromUrl.names()).toEqual([]);
    expect(seen).toEqual([BASIC, BASIC]);
  });

  it('turns 401, an unknown CA and plain HTTP at a TLS port into one sentence each, without retrying', async () => {
    const retries: string[] = [];
    const onRetry = (_a: number, reason: string) => retries.push(reason);
    await expect(new ConnectClient({ url: plainUrl, basic: { username: 'alice', password: 'wrong' } }, { onRetry }).names()).rejects.toThrow(
      `Kafka Connect at ${plainUrl} rejected basic auth as alice (HTTP 401): check the username and password.`,
    );
    await expect(new ConnectClient({ url: tlsUrl, tls: { caFile: certs.otherCaCert } }, { onRetry }).names()).rejects.toThrow(
      `Cannot connect securely to Kafka Connect at ${tlsUrl} (no auth): its certificate is not signed by the CA in ${certs.otherCaCert} (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust the CA that signed the server certificate instead (a context's --connect-ca FILE).`,
    );
    const plainAtTls = tlsUrl.replace('https:', 'http:');
    await expect(new ConnectClient(plainAtTls, { onRetry }).names()).rejects.toThrow(
      `Cannot connect to Kafka Connect at ${plainAtTls} (no auth): it speaks TLS on this port; use https://.`,
    );
    await expect(new ConnectClient({ url: plainUrl.replace('http:', 'https:') }, { onRetry }).names()).rejects.toThrow(/it does not speak TLS on this port/);
    expect(retries).toEqual([]);
  });

  it('a CA file that cannot be read is one sentence', () => {
    expect(() => new ConnectClient({ url: tlsUrl, tls: { caFile: path.join(dir, 'missing.pem') } })).toThrow(
      `Cannot read the CA certificate file for Kafka Connect at ${path.join(dir, 'missing.pem')}: ENOENT`,
    );
  });

  it('a server that never answers ends at the deadline', async () => {
    await expect(new ConnectClient(silentUrl, { deadlineMs: 1_500, requestTimeoutMs: 400 }).names()).rejects.toThrow(`Kafka Connect at ${silentUrl}`);
  });
});

describe('SearchClient with an HttpTarget', () => {
  it('detects through basic auth or an API key with the CA', async () => {
    seen.length = 0;
    expect(await SearchClient.detect({ url: tlsUrl, basic: { username: 'alice', password: 'right' }, tls: { caFile: certs.caCert } })).toMatchObject({
      major: 7,
    });
    expect(await SearchClient.detect({ url: tlsUrl, apiKey: 'a2V5', tls: { caFile: certs.caCert } })).toMatchObject({ major: 7 });
    expect(seen).toEqual([BASIC, 'ApiKey a2V5']);
  });

  it('turns 401 and an unknown CA into one sentence before the deadline', async () => {
    await expect(SearchClient.connect({ url: tlsUrl, apiKey: 'bad', tls: { caFile: certs.caCert } }, { deadlineMs: 30_000 })).rejects.toThrow(
      `The search engine at ${tlsUrl} rejected an API key (HTTP 401): check the API key.`,
    );
    await expect(SearchClient.connect({ url: tlsUrl }, { deadlineMs: 30_000 })).rejects.toThrow(
      `Cannot connect securely to the search engine at ${tlsUrl} (no auth): its certificate is not signed by Node's bundled CAs (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
  });

  it('a server that never answers ends at the deadline', async () => {
    await expect(SearchClient.connect(silentUrl, { deadlineMs: 1_000 })).rejects.toThrow(`The search engine at ${silentUrl} did not answer within 1s`);
  });
});
