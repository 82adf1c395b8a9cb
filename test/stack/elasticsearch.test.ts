import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SearchClient } from '../../src/clients/search.js';
import { isRunning } from '../../src/stack/runtimes/native/process.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { nativeStackState } from '../helpers/state.js';

/** The stack's real search engine (Elasticsearch 7.10.2 on the native runtime) through the search-client module. */
let home: string;
let url: string;
let client: SearchClient;

const outboxctl = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT });

const TYPES = ['ParcelCreated', 'ParcelUpdated', 'ParcelDelivered'];
const DAY = Date.UTC(2026, 10, 1);
/** Document i: type cycles over TYPES, one per minute from DAY. */
const doc = (i: number) => ({ eventId: `e-${i}`, eventType: TYPES[i % 3], aggregateId: `p-${i % 100}`, occurredAt: DAY + i * 60_000, payload: { n: i } });

describe('elasticsearch service and the search-client module', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-es-'));
    const r = await outboxctl(['up', '--services', 'elasticsearch']);
    expect(r.exitCode, r.stderr).toBe(0);
    url = (await nativeStackState(home)).endpoints.elasticsearch!;
    client = await SearchClient.connect(url, { deadlineMs: 30_000 });
  });
  afterAll(async () => {
    await client?.close();
    await outboxctl(['down', '--volumes']);
  });

  it('up reaches ready and status shows the engine and its version', async () => {
    expect(client.engine).toEqual({ distribution: 'elasticsearch', version: '7.10.2', major: 7 });
    const status = JSON.parse((await outboxctl(['status', '--json'])).stdout) as { services: { name: string; state: string; version: string }[] };
    // The version status shows is what answers GET /, recorded when the service became ready.
    const root = (await (await fetch(url)).json()) as { version: { number: string } };
    expect(status.services.find((s) => s.name === 'elasticsearch')).toMatchObject({ state: 'ready', version: `Elasticsearch ${root.version.number}` });
    expect(['green', 'yellow']).toContain((await client.health()).status);
  });

  it('template, 10,000 documents in bulk, get, count, terms and date_histogram aggregations', async () => {
    await client.ensureIndexTemplate('outbox-events', ['events-*'], {
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        properties: {
          eventId: { type: 'keyword' },
          eventType: { type: 'keyword' },
          aggregateId: { type: 'keyword' },
          occurredAt: { type: 'date', format: 'epoch_millis' },
        },
      },
    });
    const docs = Array.from({ length: 10_000 }, (_, i) => ({ id: `e-${i}`, doc: doc(i) }));
    for (let i = 0; i < docs.length; i += 2_500) {
      const results = await client.bulkIndex('events-test', docs.slice(i, i + 2_500));
      expect(results.every((r) => r.ok)).toBe(true);
    }
    await client.refresh('events-test');
    expect(await client.get('events-test', 'e-4242')).toEqual(doc(4242));
    expect(await client.get('events-test', 'nope')).toBeUndefined();
    expect(await client.count('events-test')).toBe(10_000);
    expect(await client.count('events-test', { term: { eventType: 'ParcelDelivered' } })).toBe(3_333);

    const r = await client.search('events-test', {
      size: 0,
      aggs: {
        byType: { terms: { field: 'eventType', order: { _key: 'asc' } } },
        perHour: { date_histogram: { field: 'occurredAt', fixed_interval: '1h' } },
      },
    });
    expect(r.total).toBe(10_000);
    const byType = (r.aggregations.byType as { buckets: { key: string; doc_count: number }[] }).buckets;
    expect(byType).toEqual([
      { key: 'ParcelCreated', doc_count: 3_334 },
      { key: 'ParcelDelivered', doc_count: 3_333 },
      { key: 'ParcelUpdated', doc_count: 3_333 },
    ]);
    // 10,000 minutes = 166 full hours of 60 documents and a last hour of 40.
    const perHour = (r.aggregations.perHour as { buckets: { key: number; doc_count: number }[] }).buckets;
    expect(perHour).toHaveLength(167);
    expect(perHour[0]).toEqual(expect.objectContaining({ key: DAY, doc_count: 60 }));
    expect(perHour.at(-1)).toEqual(expect.objectContaining({ key: DAY + 166 * 3_600_000, doc_count: 40 }));
    expect(perHour.reduce((sum, b) => sum + b.doc_count, 0)).toBe(10_000);
  });

  it('one malformed document in a bulk request gets its own error; the others are indexed', async () => {
    const results = await client.bulkIndex(
      'events-test',
      [
        { id: 'ok-1', doc: doc(20_001) },
        { id: 'bad', doc: { ...doc(20_002), occurredAt: 'not a date' } },
        { id: 'ok-2', doc: doc(20_003) },
      ],
      { refresh: true },
    );
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ['ok-1', true],
      ['bad', false],
      ['ok-2', true],
    ]);
    expect(results[1]!.status).toBe(400);
    expect(results[1]!.error).toMatch(/mapper_parsing_exception/);
    expect(await client.get('events-test', 'ok-2')).toEqual(doc(20_003));
    expect(await client.get('events-test', 'bad')).toBeUndefined();
  });

  it("the seed's checks with plain curl: _cat/indices and _search", async () => {
    const cat = await execa('curl', ['-s', `${url}/_cat/indices?v`]);
    expect(cat.stdout).toMatch(/^health status index/);
    expect(cat.stdout).toMatch(/events-test\s+\S+\s+1\s+0\s+10002/);
    const search = JSON.parse((await execa('curl', ['-s', `${url}/events-test/_search?q=eventId:e-7`])).stdout) as { hits: { hits: { _id: string }[] } };
    expect(search.hits.hits.map((h) => h._id)).toEqual(['e-7']);
  });

  it("the v8 client unadapted refuses this engine; the module's transport is what makes it work", async () => {
    const { Client } = await import('@elastic/elasticsearch');
    const plain = new Client({ node: url, maxRetries: 0 });
    await expect(plain.count({ index: 'events-test' })).rejects.toThrow(/not Elasticsearch|unknown product|compatible-with|media.type|Content-Type/i);
    await plain.close();
    expect(await client.count('events-test')).toBe(10_002);
  });

  it('a hung engine: each request only gets the time left, so the deadline is total', async () => {
    const pid = (await nativeStackState(home)).services.elasticsearch!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const begin = Date.now();
      const error = (await client
        .withOptions({ deadlineMs: 2_000 })
        .count('events-test')
        .then(
          () => new Error('answered'),
          (e: unknown) => e,
        )) as Error;
      expect(error.message).toMatch(/^The search engine at .* did not answer within 2s \(\d+ attempts?\): /);
      expect(Date.now() - begin).toBeLessThan(10_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await client.count('events-test')).toBe(10_002);
  });

  it('a request the engine rejects is a typed error with its reason', async () => {
    await expect(client.search('events-test', { query: { no_such_query: {} } })).rejects.toThrow(/refused the request \(HTTP 400\): .*no_such_query/);
  });

  it('with the engine stopped the module retries until its deadline, then fails naming the URL; down frees the port', async () => {
    const { pid, ports } = (await nativeStackState(home)).services.elasticsearch!;
    expect((await outboxctl(['stop', 'elasticsearch'])).exitCode).toBe(0);
    expect(isRunning(pid!)).toBe(false);
    let retries = 0;
    const connectError = (await SearchClient.connect(url, { deadlineMs: 1_000 }).then(
      () => new Error('connected'),
      (e: unknown) => e,
    )) as Error;
    expect(connectError.message).toMatch(/^The search engine at .* did not answer within 1s \(\d+ attempts\): connection refused\.$/);
    const error = (await client
      .withOptions({ deadlineMs: 3_000, onRetry: () => retries++ })
      .count('events-test')
      .then(
        () => new Error('answered'),
        (e: unknown) => e,
      )) as Error;
    expect(error.message).toBe(`The search engine at ${url} did not answer within 3s (${retries + 1} attempts): connection refused.`);
    expect(retries).toBeGreaterThanOrEqual(3);
    const free = await new Promise<boolean>((resolve) => {
      const s = net
        .createServer()
        .once('error', () => resolve(false))
        .listen(ports.main!, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    expect(free).toBe(true);
  });
});
