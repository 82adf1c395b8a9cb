import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableServices, component } from '../../src/stack/components/index.js';
import { stackPaths } from '../../src/stack/paths.js';
import { freePort } from '../../src/stack/ports.js';
import { emptyState, writeState } from '../../src/stack/state.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { stackState } from '../helpers/state.js';
import { smokeContextCases } from './smoke-context-cases.js';

/**
 * One real native stack with `--search-engine opensearch` (OpenSearch 2.19 as service
 * elasticsearch): status names the engine, parcels written through the tracking server reach the
 * events index and the parcels projection at their latest version, the auditing server's queries
 * answer as on Elasticsearch, `smoke` passes on it and `verify` finds it consistent (and names a
 * deleted event document). The Elasticsearch stack tests (test/stack/) cover the same on 7.10.2.
 */
let home: string;
let token: string;
let endpoints: { tracking: string; auditing: string; elasticsearch: string };
const outboxctl = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT });

async function call<T>(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(base === endpoints.elasticsearch ? {} : { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}
const audit = <T>(url: string) => call<T>(endpoints.auditing, 'GET', url);
const engine = <T>(method: string, url: string, body?: unknown) => call<T>(endpoints.elasticsearch, method, url, body);

/**
 * Records a free port for every service of the new stack before its first `up`, which prefers
 * recorded ports: the stack stays off the seed's default ports that other test stacks use.
 */
async function recordFreePorts(): Promise<void> {
  const state = emptyState('default');
  for (const name of availableServices()) {
    const ports: Record<string, number> = {};
    for (const spec of component(name).ports) ports[spec.name] = await freePort();
    state.services[name] = { runtime: 'native', ports };
  }
  await writeState(stackPaths(home, 'default'), state);
}

interface Page {
  total: number;
  items: { id: string; status: string; version: number; contents: string }[];
  nextCursor: string | null;
}

// 30 parcels: 10 stay registered (1 event), 10 go in_transit (2 events), 10 are delivered (3 events).
const ids: Record<string, string[]> = { registered: [], in_transit: [], delivered: [] };
const EVENTS = 60;

describe('the pipeline on OpenSearch 2.19 (up --search-engine opensearch)', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-opensearch-'));
    await recordFreePorts();
    // With a token: the smoke --context cases below run on this stack too (one stack for the file).
    const r = await outboxctl(['up', '--runtime', 'native', '--search-engine', 'opensearch', '--token']);
    expect(r.exitCode, r.stderr).toBe(0);
    const state = await stackState(home);
    endpoints = state.endpoints as typeof endpoints;
    token = (state as { secrets: { token?: string } }).secrets.token!;
    expect(token).toBeTruthy();
    const statuses = ['registered', 'in_transit', 'delivered'] as const;
    for (let i = 0; i < 30; i++) {
      const status = statuses[i % 3]!;
      const p = await call<{ id: string }>(endpoints.tracking, 'POST', '/api/parcel', { contents: `${i === 12 ? 'zeppelin' : 'crate'} number ${i}` });
      expect(p.status).toBe(201);
      if (status !== 'registered') await call(endpoints.tracking, 'PUT', `/api/parcel/${p.body.id}`, { status: 'in_transit' });
      if (status === 'delivered') await call(endpoints.tracking, 'PUT', `/api/parcel/${p.body.id}`, { status: 'delivered' });
      ids[status]!.push(p.body.id);
    }
    const deadline = Date.now() + 90_000;
    for (;;) {
      const stats = await audit<{ events: { total: number } }>('/stats');
      if (stats.status === 200 && stats.body.events.total >= EVENTS) break;
      if (Date.now() > deadline) throw new Error(`only ${JSON.stringify(stats.body)} indexed`);
      await sleep(500);
    }
    await engine('POST', '/parcel.outbox,parcels/_refresh');
  });
  it('status names OpenSearch 2.19 as service elasticsearch; the stack keeps its engine', async () => {
    const json = JSON.parse((await outboxctl(['status', '--json'])).stdout) as {
      searchEngine: string;
      services: { name: string; state: string; version: string }[];
    };
    expect(json.searchEngine).toBe('opensearch');
    expect(json.services.find((s) => s.name === 'elasticsearch')).toMatchObject({ state: 'ready', version: expect.stringMatching(/^OpenSearch 2\.19\.\d+$/) });
    const text = await outboxctl(['status']);
    expect(text.stdout).toMatch(/^elasticsearch\s+ready\s+pid \d+\s+\d+\s+OpenSearch 2\.19\.\d+/m);
    expect(text.stdout).toContain('search engine: OpenSearch (service elasticsearch)');
    const root = await engine<{ version: { distribution: string; number: string } }>('GET', '/');
    expect(root.body.version).toMatchObject({ distribution: 'opensearch', number: expect.stringMatching(/^2\.19\./) });
    expect((await stackState(home)).searchEngine).toBe('opensearch');
    // Nothing of the default ports: every port was the one recorded before the first up.
    expect(new URL(endpoints.elasticsearch).port).not.toBe('9200');

    const again = await outboxctl(['up']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already up/);
    const other = await outboxctl(['up', '--search-engine', 'elasticsearch']);
    expect(other.exitCode).toBe(2);
    expect(other.stderr.split('\n')[0]).toBe(
      'error: Stack "default" runs OpenSearch (its data is that engine\'s), so --search-engine elasticsearch cannot start it.',
    );
  });

  it('events reach the events index with the template mapping, parcels the projection at their latest version', async () => {
    const count = await engine<{ count: number }>('GET', '/parcel.outbox/_count');
    expect(count.body.count).toBe(EVENTS);
    const mapping = await engine<Record<string, { mappings: { properties: Record<string, { type: string }> } }>>('GET', '/parcel.outbox/_mapping');
    expect(mapping.body['parcel.outbox']!.mappings.properties).toMatchObject({ eventId: { type: 'keyword' }, occurredAt: { type: 'date' } });
    const templates = await engine<{ index_templates: { name: string }[] }>('GET', '/_index_template');
    expect(templates.body.index_templates.map((t) => t.name)).toEqual(expect.arrayContaining(['parcel-outbox-events', 'parcels']));
    const expected = { registered: 1, in_transit: 2, delivered: 3 } as const;
    for (const [status, version] of Object.entries(expected)) {
      for (const id of ids[status]!) {
        const doc = await engine<{ found: boolean; _source: { status: string; version: number } }>('GET', `/parcels/_doc/${id}`);
        expect(doc.body.found, id).toBe(true);
        expect(doc.body._source, id).toMatchObject({ status, version });
      }
    }
  });

  it('the auditing server: /stats exactly, /parcels?status= across pages, history in version order, q search, 404 and 400', async () => {
    const stats = await audit<{
      events: { total: number; byType: Record<string, number> };
      parcels: { total: number; byStatus: Record<string, number> };
      overTime: { count: number }[];
    }>('/stats?interval=1m');
    expect(stats.status).toBe(200);
    expect(stats.body.events).toEqual({ total: EVENTS, byType: { ParcelCreated: 30, ParcelUpdated: 30 } });
    expect(stats.body.parcels).toEqual({ total: 30, byStatus: { registered: 10, in_transit: 10, delivered: 10 } });
    expect(stats.body.overTime.reduce((sum, b) => sum + b.count, 0)).toBe(EVENTS);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: Page } = await audit<Page>(`/parcels?status=delivered&size=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      for (const p of body.items) expect(p).toMatchObject({ status: 'delivered', version: 3 });
      seen.push(...body.items.map((p) => p.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect([...seen].sort()).toEqual([...ids.delivered!].sort());

    const id = ids.delivered![0]!;
    const history = await audit<{ events: { eventType: string; version: number; changed: string[] }[] }>(`/parcels/${id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.events.map((e) => [e.eventType, e.version, e.changed])).toEqual([
      ['ParcelCreated', 1, ['contents', 'status']],
      ['ParcelUpdated', 2, ['status']],
      ['ParcelUpdated', 3, ['status']],
    ]);
    const found = await audit<Page>('/parcels?q=zeppelin');
    expect(found.body.items.map((p) => p.contents)).toEqual(['zeppelin number 12']);
    expect((await audit(`/parcels/${randomUUID()}/history`)).status).toBe(404);
    expect((await audit('/parcels?status=lost')).status).toBe(400);
    const cli = await outboxctl(['audit', 'stats', '--json']);
    expect(JSON.parse(cli.stdout)).toMatchObject({ parcels: { byStatus: { delivered: 10 } } });
  });

  it('smoke passes on the running stack and stops nothing', async () => {
    const r = await outboxctl(['smoke', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { passed: boolean; steps: { status: string }[]; stoppedAfter: string[] };
    expect(report.passed).toBe(true);
    expect(report.steps.every((s) => s.status === 'passed')).toBe(true);
    expect(report.stoppedAfter).toEqual([]);
  });

  it('verify --from-beginning is consistent; a deleted event document is exit 1 naming it', async () => {
    const ok = await outboxctl(['verify', '--from-beginning']);
    expect(ok.exitCode, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(/^consistent/);

    const hit = await engine<{ hits: { hits: { _id: string }[] } }>('POST', '/parcel.outbox/_search', {
      query: { term: { aggregateId: ids.in_transit![0] } },
      sort: [{ occurredAt: 'asc' }],
      size: 1,
    });
    const eventId = hit.body.hits.hits[0]!._id;
    expect((await engine('DELETE', `/parcel.outbox/_doc/${eventId}?refresh=true`)).status).toBe(200);
    const broken = await outboxctl(['verify', '--from-beginning', '--settle', '2s', '--json']);
    expect(broken.exitCode).toBe(1);
    const report = JSON.parse(broken.stdout) as { consistent: boolean; stages: { events: { missing: unknown } }; problems: string[] };
    expect(report.consistent).toBe(false);
    expect(report.stages.events.missing).toEqual({ count: 1, first: [eventId] });
    expect(report.problems).toEqual([`1 event has no document in parcel.outbox: ${eventId}`]);
  });
});

// The same stack is the deployed pipeline that smoke --context reaches through a context alone.
smokeContextCases(() => home);

afterAll(async () => {
  if (home) await outboxctl(['down', '--volumes']);
});
