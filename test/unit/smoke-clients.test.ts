import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HttpTarget } from '../../src/lib/targets.js';
import type { SeenEvent, SmokeStep, SmokeTargets } from '../../src/smoke/context.js';
import { redactUrls } from '../../src/smoke/redact.js';
import type { SmokeReport } from '../../src/smoke/report.js';
import { runSteps, smoke } from '../../src/smoke/run.js';
import { CONTEXT_SMOKE_STEPS } from '../../src/smoke/steps.js';
import type { StackPaths } from '../../src/stack/paths.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';

// Smoke's requests to the tracking and auditing servers go through their clients with the whole
// target (bearer token, TLS for https): in-process servers stand in for both, over http and https.

const TOKEN = 'right-token';
const SECRET = 'hunter2-in-the-url';
const PARCEL_ID = '0b9d6a4e-7c55-4f4e-9a39-5c2d4c1f0a11';
const EVENTS: SeenEvent[] = [
  {
    eventId: 'e1e1e1e1-0000-4000-8000-000000000001',
    eventType: 'ParcelCreated',
    aggregateType: 'Parcel',
    aggregateId: PARCEL_ID,
    occurredAt: '2026-11-26T10:00:00.000Z',
    payload: null,
    partition: 0,
    offset: '10',
    version: 1,
  },
  {
    eventId: 'e2e2e2e2-0000-4000-8000-000000000002',
    eventType: 'ParcelUpdated',
    aggregateType: 'Parcel',
    aggregateId: PARCEL_ID,
    occurredAt: '2026-11-26T10:00:01.000Z',
    payload: null,
    partition: 0,
    offset: '11',
    version: 2,
  },
];

/** How the stand-ins answer: every request first takes one of `queue` (a status), then `mode` decides. */
const behaviour: { mode: 'ok' | 'fail'; failStatus: number; queue: number[] } = { mode: 'ok', failStatus: 500, queue: [] };
const requests: { url: string; method: string; authorization: string }[] = [];

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' }).end(JSON.stringify(body));
}

const problem = (status: number, detail: string) => ({ type: `urn:problem:${status === 401 ? 'unauthorized' : 'failed'}`, title: 'Refused', status, detail });

function auditingServer(req: IncomingMessage, res: ServerResponse) {
  requests.push({ url: req.url ?? '', method: req.method ?? '', authorization: req.headers.authorization ?? '' });
  const queued = behaviour.queue.shift();
  if (queued !== undefined) return send(res, queued, problem(queued, 'the search engine is not ready yet.'));
  if (behaviour.mode === 'fail') return send(res, behaviour.failStatus, problem(behaviour.failStatus, 'boom.'));
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, problem(401, 'a bearer token is required.'));
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/parcels') return send(res, 200, { items: [{ id: PARCEL_ID, status: 'in_transit', version: 2, contents: 'Kotlin is cool, checked' }] });
  if (url.pathname === `/parcels/${PARCEL_ID}/history`)
    return send(res, 200, { events: EVENTS.map((e) => ({ eventId: e.eventId, eventType: e.eventType, version: e.version, changed: ['status'] })) });
  if (url.pathname === '/stats')
    return send(res, 200, {
      events: { total: 2, byType: { ParcelCreated: 1, ParcelUpdated: 1 } },
      overTime: [{ count: 2 }],
      parcels: { byStatus: { in_transit: 1 } },
    });
  if (url.pathname === '/api/parcel' && req.method === 'POST')
    return send(res, 201, { id: PARCEL_ID, contents: 'Kotlin is cool', status: 'registered', version: 1, createdAt: '', updatedAt: '' });
  return send(res, 404, problem(404, 'no such route.'));
}

let dir: string;
let certs: TestCertificates;
const servers: Server[] = [];
let plain: string;
let tls: string;
let closedPort: number;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** `http://user:SECRET@127.0.0.1:PORT`: a URL with a password in its userinfo. */
const withSecret = (url: string) => url.replace('://', `://user:${SECRET}@`);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-smoke-clients-'));
  certs = await makeTestCertificates(dir);
  plain = `http://127.0.0.1:${await listen(createHttpServer(auditingServer))}`;
  tls = `https://127.0.0.1:${await listen(createHttpsServer({ cert: await readFile(certs.serverCert), key: await readFile(certs.serverKey) }, auditingServer))}`;
  // A port nothing listens on any more.
  const gone = createHttpServer();
  closedPort = await listen(gone);
  servers.pop();
  await new Promise((resolve) => gone.close(resolve));
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  behaviour.mode = 'ok';
  behaviour.failStatus = 500;
  behaviour.queue = [];
  requests.length = 0;
});

/** What the steps before the auditing ones leave in the context (the parcel, its events, /stats at the start). */
const seed: SmokeStep = {
  name: 'seed',
  title: 'what the earlier steps found',
  async run(ctx) {
    ctx.updated = { id: PARCEL_ID, contents: 'Kotlin is cool, checked', status: 'in_transit', version: 2, createdAt: '', updatedAt: '' };
    ctx.events = [...EVENTS];
    ctx.baseline = { byType: {}, byStatus: {} };
    return 'seeded';
  },
};

const AUDITING_STEPS = CONTEXT_SMOKE_STEPS.filter((s) => s.name.startsWith('auditing-'));
let runs = 0;

/** The run under context "remote" with these targets; the JSON report as written. */
async function run(targets: SmokeTargets, steps: readonly SmokeStep[], timeoutMs = 20_000) {
  const reportFile = path.join(dir, `report-${++runs}.json`);
  const warnings: string[] = [];
  const report = await smoke({
    paths: { name: 'default' } as StackPaths,
    env: {},
    cwd: dir,
    runtime: 'native',
    timeoutMs,
    keep: false,
    reportFile,
    steps,
    upEvents: {},
    context: { name: 'remote', targets },
    events: { onWarning: (m) => warnings.push(m) },
  });
  const written = await readFile(reportFile, 'utf8');
  return { report, written, warnings, step: (name: string) => report.steps.find((s) => s.name === name)! };
}

function expectNoSecret(r: { report: SmokeReport; written: string; warnings: string[] }) {
  for (const s of r.report.steps) expect(s.message).not.toContain(SECRET);
  expect(r.written).not.toContain(SECRET);
  expect(r.warnings.join('\n')).not.toContain(SECRET);
  expect(JSON.stringify(requests)).not.toContain(SECRET);
}

describe('smoke against the auditing server through AuditingClient', () => {
  it('with a password in the URL: the steps pass with the bearer token, and the password is sent and printed nowhere', async () => {
    const r = await run({ auditing: { url: withSecret(plain), token: TOKEN } }, [seed, ...AUDITING_STEPS]);
    expect(r.report.steps.map((s) => [s.name, s.status])).toEqual([
      ['seed', 'passed'],
      ['auditing-parcels', 'passed'],
      ['auditing-history', 'passed'],
      ['auditing-stats', 'passed'],
    ]);
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(new Set(requests.map((q) => q.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
    expectNoSecret(r);
  });

  it.each([401, 403])('a %i ends the step at once naming the fix, without the password', async (status) => {
    behaviour.mode = 'fail';
    behaviour.failStatus = status;
    const r = await run({ auditing: { url: withSecret(plain), token: 'wrong' } }, [seed, ...AUDITING_STEPS]);
    const failed = r.step('auditing-parcels');
    expect(failed).toMatchObject({ status: 'failed', failure: 'assertion' });
    expect(failed.message).toBe(
      `the auditing server at ${plain} answered GET /parcels with ${status} (boom): give context "remote" the auditing server's token (\`outboxctl context create remote --force … --auditing-token env:VAR\`), or pass --token.`,
    );
    // At once: one request, well before the run's 20 s deadline.
    expect(requests).toHaveLength(1);
    expect(failed.seconds).toBeLessThan(5);
    expect(r.step('auditing-history')).toMatchObject({ status: 'skipped', message: 'not run: auditing-parcels failed.' });
    expectNoSecret(r);
  });

  it('names the --token given as the one to fix', async () => {
    behaviour.mode = 'fail';
    behaviour.failStatus = 401;
    const controller = new AbortController();
    const [result] = await runSteps(AUDITING_STEPS.slice(0, 1), {
      paths: { name: 'default' } as StackPaths,
      external: { context: 'remote' },
      env: {},
      tokenFlag: 'wrong',
      deadline: Date.now() + 20_000,
      signal: controller.signal,
      token: 'smoketoken',
      targets: { auditing: { url: plain, token: 'wrong' } },
      updated: { id: PARCEL_ID, contents: '', status: 'in_transit', version: 2, createdAt: '', updatedAt: '' },
      events: [],
      documents: [],
      started: [],
      warn: () => undefined,
    } as never);
    expect(result!.message).toContain("the token given with --token is not the auditing server's");
  });

  it('any other answer is waited out until it passes', async () => {
    behaviour.queue = [503, 503, 500];
    const r = await run({ auditing: { url: withSecret(plain), token: TOKEN } }, [seed, ...AUDITING_STEPS.slice(0, 1)]);
    expect(r.step('auditing-parcels')).toMatchObject({ status: 'passed' });
    expect(requests.length).toBe(4);
    expectNoSecret(r);
  });

  it('an answer that never comes right fails at the deadline as a timeout saying what the server answered', async () => {
    behaviour.mode = 'fail';
    behaviour.failStatus = 503;
    const r = await run({ auditing: { url: withSecret(plain), token: TOKEN } }, [seed, ...AUDITING_STEPS.slice(0, 1)], 1_500);
    const failed = r.step('auditing-parcels');
    expect(failed).toMatchObject({ status: 'failed', failure: 'timeout' });
    expect(failed.message).toMatch(
      /^GET \/parcels\?q=smoke[0-9a-f]+&size=10 answered 503 \(boom\) after \d\.\d s: context "remote" names no Kafka Connect to ask about its sink connector\.$/,
    );
    expect(requests.length).toBeGreaterThan(1);
    expectNoSecret(r);
  });

  it('a server that cannot be reached is named without the password', async () => {
    const url = `http://127.0.0.1:${closedPort}`;
    const r = await run({ auditing: { url: withSecret(url), token: TOKEN } }, [seed, ...AUDITING_STEPS.slice(0, 1)], 1_500);
    const failed = r.step('auditing-parcels');
    expect(failed).toMatchObject({ status: 'failed', failure: 'timeout' });
    expect(failed.message).toMatch(new RegExp(`^Cannot reach the auditing server at ${url.replace(/\./g, '\\.')}: connection refused after \\d\\.\\d s: `));
    expectNoSecret(r);
  });

  it("https uses the target's TLS options: its CA is trusted, Node's bundled CAs are not enough", async () => {
    const trusted: HttpTarget = { url: withSecret(tls), token: TOKEN, tls: { caFile: certs.caCert } };
    const ok = await run({ auditing: trusted }, [seed, ...AUDITING_STEPS]);
    expect(ok.report.passed).toBe(true);
    expectNoSecret(ok);

    const untrusted = await run({ auditing: { url: withSecret(tls), token: TOKEN } }, [seed, ...AUDITING_STEPS.slice(0, 1)], 1_500);
    const failed = untrusted.step('auditing-parcels');
    expect(failed).toMatchObject({ status: 'failed', failure: 'timeout' });
    expect(failed.message).toContain(`the auditing server at ${tls}`);
    expectNoSecret(untrusted);
  });
});

describe('smoke against the tracking server through TrackingClient', () => {
  const create = CONTEXT_SMOKE_STEPS.filter((s) => s.name === 'create-parcel');

  it('sends the bearer token over https with the target CA, and never the password of the URL', async () => {
    const r = await run({ tracking: { url: withSecret(tls), token: TOKEN, tls: { caFile: certs.caCert } } }, create);
    expect(r.step('create-parcel')).toMatchObject({ status: 'passed', message: `parcel ${PARCEL_ID}, version 1, registered` });
    expect(r.report.parcelId).toBe(PARCEL_ID);
    expect(requests).toEqual([{ url: '/api/parcel', method: 'POST', authorization: `Bearer ${TOKEN}` }]);
    expectNoSecret(r);
  });

  it('a 401 ends the step naming the fix', async () => {
    const r = await run({ tracking: { url: withSecret(plain), token: 'wrong' } }, create);
    expect(r.step('create-parcel')).toMatchObject({ status: 'failed', failure: 'assertion' });
    expect(r.step('create-parcel').message).toBe(
      'The tracking server answered 401 Refused: a bearer token is required: give context "remote" the tracking server\'s token (`outboxctl context create remote --force … --tracking-token env:VAR`), or pass --token.',
    );
    expectNoSecret(r);
  });
});

describe('smoke messages', () => {
  it('every URL in a sentence loses its password', () => {
    expect(redactUrls(`Request cannot be constructed from a URL that includes credentials: http://user:${SECRET}@h:8080/stats?interval=1d`)).toBe(
      'Request cannot be constructed from a URL that includes credentials: http://user:****@h:8080/stats?interval=1d',
    );
    expect(redactUrls('at http://h:1 and https://a:b@c (d)')).toBe('at http://h:1 and https://a:****@c/ (d)');
    expect(redactUrls('no url here')).toBe('no url here');
  });

  it('a step whose error quotes a URL with a password is reported without it', async () => {
    const [result] = await runSteps(
      [
        {
          name: 'leaky',
          title: 'a step whose library quotes the URL',
          run: async () => {
            throw new TypeError(`Request cannot be constructed from a URL that includes credentials: http://user:${SECRET}@127.0.0.1:9/x`);
          },
        },
      ],
      { signal: new AbortController().signal, deadline: Date.now() + 10_000 } as never,
    );
    expect(result!.message).toBe('unexpected error: Request cannot be constructed from a URL that includes credentials: http://user:****@127.0.0.1:9/x.');
  });
});
