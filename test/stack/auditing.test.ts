import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { stackState } from '../helpers/state.js';

/**
 * The auditing server on the real pipeline: a fixed data set written through the tracking
 * server (300 parcels over three statuses, a known number of updates each) must come back
 * exactly through Debezium, Kafka, the sink and Elasticsearch.
 */
let home: string;
let endpoints: { tracking: string; auditing: string; elasticsearch: string };
const outboxctl = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT });

async function call<T>(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}
const audit = <T>(url: string) => call<T>(endpoints.auditing, 'GET', url);

interface Page {
  total: number;
  items: { id: string; status: string; version: number; contents: string }[];
  nextCursor: string | null;
}

// 300 parcels: 100 stay registered (1 event), 100 go in_transit (2 events), 100 are delivered (3 events).
const expected = { ParcelCreated: 300, ParcelUpdated: 300, registered: 100, in_transit: 100, delivered: 100 };
const ids: Record<string, string[]> = { registered: [], in_transit: [], delivered: [] };

describe('auditing server on the real pipeline', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-auditing-'));
    const r = await outboxctl(['up']);
    expect(r.exitCode, r.stderr).toBe(0);
    endpoints = (await stackState(home)).endpoints as typeof endpoints;
    const statuses = ['registered', 'in_transit', 'delivered'] as const;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 300) {
          const i = next++;
          const status = statuses[i % 3]!;
          const word = i === 42 ? 'zeppelin' : 'crate';
          const p = await call<{ id: string }>(endpoints.tracking, 'POST', '/api/parcel', { contents: `${word} number ${i}` });
          if (status !== 'registered') await call(endpoints.tracking, 'PUT', `/api/parcel/${p.body.id}`, { status: 'in_transit' });
          if (status === 'delivered') await call(endpoints.tracking, 'PUT', `/api/parcel/${p.body.id}`, { status: 'delivered' });
          ids[status]!.push(p.body.id);
        }
      }),
    );
    // Wait until the sink has indexed all 600 events.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const stats = await audit<{ events: { total: number } }>('/stats');
      if (stats.status === 200 && stats.body.events.total >= 600) break;
      if (Date.now() > deadline) throw new Error(`only ${JSON.stringify(stats.body)} indexed`);
      await sleep(500);
    }
    // Each bulk wrote an event and its parcel together; make both indices' latest writes searchable
    // (each refreshes on its own second otherwise).
    await fetch(`${endpoints.elasticsearch}/parcel.outbox,parcels/_refresh`, { method: 'POST' });
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
  });

  it('/stats counts per type and per status exactly, in one request', async () => {
    const { status, body } = await audit<{
      events: { total: number; byType: Record<string, number> };
      parcels: { total: number; byStatus: Record<string, number> };
      overTime: { count: number }[];
    }>('/stats?interval=1m');
    expect(status).toBe(200);
    expect(body.events).toEqual({ total: 600, byType: { ParcelCreated: expected.ParcelCreated, ParcelUpdated: expected.ParcelUpdated } });
    expect(body.parcels).toEqual({ total: 300, byStatus: { registered: 100, in_transit: 100, delivered: 100 } });
    expect(body.overTime.reduce((sum, b) => sum + b.count, 0)).toBe(600);
    const cli = await outboxctl(['audit', 'stats', '--json']);
    expect(JSON.parse(cli.stdout)).toMatchObject({ parcels: { byStatus: { delivered: 100 } } });
  });

  it('/parcels?status=delivered returns exactly the delivered ones across pages, no duplicate, none missing', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: Page } = await audit<Page>(`/parcels?status=delivered&size=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      for (const p of body.items) expect(p).toMatchObject({ status: 'delivered', version: 3 });
      seen.push(...body.items.map((p) => p.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(15);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...ids.delivered!].sort());
  });

  it('/parcels/:id/history lists the events in version order; q finds a parcel by a word of its contents', async () => {
    const id = ids.delivered![0]!;
    const { status, body } = await audit<{ events: { eventType: string; version: number; changed: string[] }[] }>(`/parcels/${id}/history`);
    expect(status).toBe(200);
    expect(body.events.map((e) => [e.eventType, e.version, e.changed])).toEqual([
      ['ParcelCreated', 1, ['contents', 'status']],
      ['ParcelUpdated', 2, ['status']],
      ['ParcelUpdated', 3, ['status']],
    ]);
    const found = await audit<Page>('/parcels?q=zeppelin');
    expect(found.body.items.map((p) => p.contents)).toEqual(['zeppelin number 42']);
    const cli = await outboxctl(['audit', 'history', id]);
    expect(cli.stdout).toMatch(/^1\s+ParcelCreated/m);
    expect((await audit(`/parcels/${id}`)).status).toBe(200);
    expect((await audit(`/parcels/${randomUUID()}/history`)).status).toBe(404);
    expect((await audit('/parcels/no-such-parcel/history')).status).toBe(400);
  });

  it('every bad parameter is a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['/parcels?status=lost', 'status'],
      ['/parcels?size=0', 'size'],
      ['/parcels?size=501', 'size'],
      ['/parcels?since=yesterday', 'since'],
      ['/parcels?cursor=bm9wZQ', 'cursor'],
      ['/parcels?sort=contents', 'sort'],
      ['/parcels?colour=red', 'colour'],
      ['/events?until=2026-13-45', 'until'],
      ['/stats?interval=5m', 'interval'],
      // A well-formed cursor whose date is no real day, which Elasticsearch would refuse.
      [`/parcels?cursor=${Buffer.from(JSON.stringify(['2026-02-30T00:00:00Z', randomUUID()])).toString('base64url')}`, 'cursor'],
      ['/events?type=ParcelDeleted', 'type'],
      ['/events?aggregateId=no-such-parcel', 'aggregateId'],
    ];
    for (const [url, field] of cases) {
      const r = await audit<{ status: number; field: string; detail: string }>(url);
      expect(r.status, url).toBe(400);
      expect(r.body.field, url).toBe(field);
      expect(r.body.detail, url).toContain(`"${field}"`);
    }
    // A cursor with a real ISO date reaches the engine as epoch milliseconds, which it accepts.
    const iso = await audit<Page>(`/parcels?size=5&cursor=${Buffer.from(JSON.stringify(['2100-01-01T00:00:00Z', 'z'])).toString('base64url')}`);
    expect(iso.status).toBe(200);
    expect(iso.body.items).toHaveLength(5);
    const cli = await outboxctl(['audit', 'parcels', '--status', 'lost']);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr.split('\n')[0]).toBe(
      'error: The auditing server answered 400: Parameter "status" must be one of registered, in_transit, delivered, returned.',
    );
  });

  it('with Elasticsearch stopped it answers 503, and recovers when the engine is back; the sink catches up after the outage', async () => {
    expect((await outboxctl(['stop', 'elasticsearch'])).exitCode).toBe(0);
    const down = await audit<{ status: number; detail: string }>('/parcels');
    expect(down.status).toBe(503);
    expect(down.body.detail).toContain('Elasticsearch');
    expect((await audit('/health')).status).toBe(503);
    // An event written during the outage: the sink retries (past its 15 s request deadline) and indexes it later.
    const during = await call<{ id: string }>(endpoints.tracking, 'POST', '/api/parcel', { contents: 'written while the engine was down' });
    await sleep(20_000);
    const up = await outboxctl(['up', '--services', 'elasticsearch']);
    expect(up.exitCode, up.stderr).toBe(0);
    const back = await audit<Page>('/parcels?status=registered&size=500');
    expect(back.status).toBe(200);
    expect(back.body.total).toBeGreaterThanOrEqual(100);
    const deadline = Date.now() + 60_000;
    while ((await audit(`/parcels/${during.body.id}`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the sink did not index the event written during the outage');
      await sleep(500);
    }
    const status = JSON.parse((await outboxctl(['status', '--json'])).stdout) as { services: { name: string; state: string }[] };
    const sink = status.services.find((x) => x.name === 'sink')?.state;
    // A sink that ended says why in its log (once seen in CI: 'crashed' here, not reproduced since).
    const why = sink === 'ready' ? '' : (await outboxctl(['logs', 'sink', '--tail', '40'])).stdout;
    expect(sink, why).toBe('ready');
  });
});
