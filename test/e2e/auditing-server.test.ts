import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditingServer, createAuditingServer } from '../../src/servers/auditing/app.js';
import { cli } from '../helpers/cli.js';
import { type FakeElasticsearch, fakeElasticsearch } from '../helpers/fake-elasticsearch.js';

/**
 * The auditing server's input checks, its problem answers and its token, against a fake
 * Elasticsearch: every check runs before a query, so none of these needs the real engine
 * (test/stack/auditing.test.ts runs it on the real pipeline).
 */
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function get(base: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
}

describe('auditing server: bad input is a 400 naming the parameter, before any query', () => {
  let es: FakeElasticsearch;
  let server: AuditingServer;
  beforeAll(async () => {
    es = await fakeElasticsearch();
    server = await createAuditingServer({ elasticsearchUrl: es.url, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await es?.close();
  });

  const cases: [string, string, RegExp][] = [
    [`/parcels?cursor=${cursorOf(['2026-02-30T00:00:00Z', randomUUID()])}`, 'cursor', /"cursor"/],
    [`/events?cursor=${cursorOf(['2026-02-30', randomUUID()])}`, 'cursor', /"cursor"/],
    [`/parcels?cursor=${cursorOf([1.5, 'x'])}`, 'cursor', /"cursor"/],
    [`/parcels?cursor=${cursorOf([1, 2])}`, 'cursor', /"cursor"/],
    ['/parcels?since=2026-02-30', 'since', /"since"/],
    ['/events?until=2026-04-31T10:00:00Z', 'until', /"until"/],
    ['/parcels/not-a-uuid', 'id', /not-a-uuid/],
    ['/parcels/not-a-uuid/history', 'id', /not-a-uuid/],
    ['/events?aggregateId=nope', 'aggregateId', /"aggregateId"/],
    ['/events?type=ParcelDeleted', 'type', /ParcelCreated, ParcelUpdated/],
  ];
  it.each(cases)('%s → 400 naming %s', async (path, field, detail) => {
    const before = es.searches.length;
    const r = await get(server.url, path);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body).toMatchObject({ type: 'urn:outboxctl:problem:invalid-request', status: 400, field });
    expect(r.body.detail).toMatch(detail);
    expect(r.body.detail).toMatch(/\.$/);
    expect(es.searches.length).toBe(before);
  });

  it('valid cursors, dates, ids and types reach the engine as epoch milliseconds and terms', async () => {
    const id = randomUUID();
    const ok = [
      `/parcels?cursor=${cursorOf([1_767_225_600_000, id])}`,
      `/parcels?cursor=${cursorOf(['2026-02-28T00:00:00Z', id])}`,
      '/parcels?since=2024-02-29',
      `/parcels/${id}`,
      `/events?type=ParcelUpdated&aggregateId=${id}`,
    ];
    for (const path of ok) expect((await get(server.url, path)).status, path).not.toBe(400);
    expect(
      es.searches.find((s) => JSON.stringify(s.body).includes('search_after') && (s.body.search_after as unknown[])[0] === Date.parse('2026-02-28T00:00:00Z')),
    ).toBeDefined();
  });

  it('an over-long query is a 431 problem+json, not plain JSON', async () => {
    const r = await get(server.url, `/parcels?q=${'x'.repeat(20_000)}`);
    expect(r.status).toBe(431);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body).toMatchObject({ status: 431, title: expect.any(String), type: expect.stringMatching(/^urn:outboxctl:problem:/) });
    expect(r.body.detail).toMatch(/\d+ bytes/);
  });
});

describe('auditing server: an engine that does not answer', () => {
  it('the 503 says how long it really waited and for which deadline', async () => {
    const es = await fakeElasticsearch();
    const server = await createAuditingServer({ elasticsearchUrl: es.url, port: 0 });
    try {
      expect((await get(server.url, '/parcels')).status).toBe(200);
      await es.close();
      const begin = performance.now();
      const r = await get(server.url, '/parcels');
      const elapsedS = (performance.now() - begin) / 1000;
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      const detail = String(r.body.detail);
      const waited = /gave up after (\d+\.\d)s/.exec(detail);
      expect(waited, detail).not.toBeNull();
      expect(Number(waited![1])).toBeLessThanOrEqual(elapsedS + 0.05);
      // Whatever deadline it names is one it did not claim to have waited out.
      const deadline = /(\d+\.\d)s deadline/.exec(detail);
      expect(deadline, detail).not.toBeNull();
      if (Number(deadline![1]) > elapsedS) expect(detail).toMatch(/another retry would pass/);
      expect(detail).not.toMatch(/within \d+s/);
    } finally {
      await server.close();
    }
  });
});

describe('auditing server with a bearer token', () => {
  let es: FakeElasticsearch;
  let server: AuditingServer;
  const token = 'audit-secret-1';
  beforeAll(async () => {
    es = await fakeElasticsearch();
    server = await createAuditingServer({ elasticsearchUrl: es.url, port: 0, token });
  });
  afterAll(async () => {
    await server?.close();
    await es?.close();
  });

  it('answers 401 problem+json with WWW-Authenticate on every route but /health, before any query', async () => {
    for (const [path, headers] of [
      ['/parcels', {}],
      ['/stats', { authorization: 'Bearer wrong' }],
      ['/events', { authorization: `Basic ${token}` }],
      ['/no-such-route', {}],
    ] as [string, Record<string, string>][]) {
      const r = await get(server.url, path, headers);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="outboxctl"/);
      expect(r.body).toMatchObject({ status: 401, type: 'urn:outboxctl:problem:unauthorized' });
    }
    expect(es.searches).toHaveLength(0);
    expect((await get(server.url, '/health')).status).toBe(200);
    expect((await get(server.url, '/parcels', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('outboxctl audit sends the token from --token, else OUTBOXCTL_TOKEN, and says what to do without one', async () => {
    const a = ['--auditing-url', server.url];
    const home = { OUTBOXCTL_HOME: `/tmp/outboxctl-audit-token-${randomUUID()}` };
    const none = await cli(['audit', 'parcels', ...a], home);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: The auditing server answered 401: .*\.\n/);
    expect(none.stderr).toMatch(/hint: .*--token.*OUTBOXCTL_TOKEN/);
    const flag = await cli(['audit', 'parcels', '--json', '--token', token, ...a], home);
    expect(flag.code, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout)).toMatchObject({ total: 0, items: [] });
    const env = await cli(['audit', 'stats', '--json', ...a], { ...home, OUTBOXCTL_TOKEN: token });
    expect(env.code, env.stderr).toBe(0);
    const flagWins = await cli(['audit', 'stats', '--json', '--token', 'wrong', ...a], { ...home, OUTBOXCTL_TOKEN: token });
    expect(flagWins.code).toBe(1);
  });
});
