import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { isLoopback, listeners, processTree, roleFacts } from '../helpers/least-privilege.js';
import { nativeStackState, stackState } from '../helpers/state.js';

/**
 * The seed's pipeline on the real stack: tracking server → PostgreSQL outbox → Debezium (Connect)
 * → parcel.outbox → embedded sink → Elasticsearch. kcat (librdkafka) reads the topic as an
 * independent client; Elasticsearch is queried over plain HTTP.
 */
let home: string;
let endpoints: { database: string; kafka: string; elasticsearch: string; tracking: string; connect: string };
const outboxctl = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1', ...env }, reject: false, cwd: ROOT });

interface KcatRecord {
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** Every record of a topic, read by kcat (-J: one JSON envelope per record). */
async function kcatRead(topic: string): Promise<KcatRecord[]> {
  const r = await execa('kcat', ['-C', '-b', endpoints.kafka, '-t', topic, '-e', '-q', '-J'], { reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as KcatRecord);
}

const headersOf = (r: KcatRecord): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < (r.headers ?? []).length; i += 2) out[r.headers![i]!] = r.headers![i + 1]!;
  return out;
};

async function es<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(`${endpoints.elasticsearch}${url}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
}
const count = async (index: string, query: unknown = { match_all: {} }) => {
  await es('POST', `/${index}/_refresh`);
  return (await es<{ count: number }>('POST', `/${index}/_count`, { query })).count;
};

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${timeoutMs} ms (last: ${JSON.stringify(last).slice(0, 300)})`);
    await sleep(250);
  }
}

interface Parcel {
  id: string;
  version: number;
  status: string;
}

async function api<T>(method: string, url: string, body: unknown): Promise<T> {
  const response = await fetch(`${endpoints.tracking}${url}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${method} ${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** n parcels, each created and then updated twice, with `concurrency` parcels in flight. */
async function createAndUpdate(n: number, concurrency = 32): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const p = await api<Parcel>('POST', '/api/parcel', { contents: `parcel ${i}` });
        await api('PUT', `/api/parcel/${p.id}`, { status: 'in_transit' });
        await api('PUT', `/api/parcel/${p.id}`, { status: 'delivered', contents: `parcel ${i}, delivered` });
        ids.push(p.id);
      }
    }),
  );
  return ids;
}

/** Checks records, event documents and parcels documents of `ids` (each created + updated twice). */
async function expectPipelineCounts(ids: string[]): Promise<void> {
  const wanted = new Set(ids);
  const records = await eventually(
    '3 records per parcel on parcel.outbox',
    async () => (await kcatRead('parcel.outbox')).filter((r) => r.key !== null && wanted.has(r.key)),
    (rs) => rs.length >= ids.length * 3,
  );
  expect(records).toHaveLength(ids.length * 3);
  // Per key, offset order is commit order: the versions go 1, 2, 3.
  const versions = new Map<string, number[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const value = JSON.parse(r.payload!) as { payload: { parcel: Parcel } };
    versions.set(r.key!, [...(versions.get(r.key!) ?? []), value.payload.parcel.version]);
  }
  for (const v of versions.values()) expect(v).toEqual([1, 2, 3]);
  const byParcel = { terms: { aggregateId: ids } };
  await eventually(
    'event documents',
    () => count('parcel.outbox', byParcel),
    (c) => c >= ids.length * 3,
  );
  expect(await count('parcel.outbox', byParcel)).toBe(ids.length * 3);
  const atVersion3 = { bool: { filter: [{ terms: { id: ids } }, { term: { version: 3 } }] } };
  await eventually(
    'parcels documents at version 3',
    () => count('parcels', atVersion3),
    (c) => c >= ids.length,
  );
  expect(await count('parcels', { terms: { id: ids } })).toBe(ids.length);
  expect(await count('parcels', atVersion3)).toBe(ids.length);
}

describe('pipeline: tracking → outbox → Debezium → parcel.outbox → sink → Elasticsearch', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-pipeline-'));
    const dry = await outboxctl(['up', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(
      dry.stdout
        .split('\n')
        .filter((l) => /^\d+\. /.test(l))
        .map((l) => l.split('. ')[0]),
    ).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    const r = await outboxctl(['up']);
    expect(r.exitCode, r.stderr).toBe(0);
    endpoints = (await stackState(home)).endpoints as typeof endpoints;
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
  });

  it('a second up repeats none of the one-time steps (and says --partitions cannot change the topic); status says which sink runs', async () => {
    const again = await outboxctl(['up', '--json', '--partitions', '3']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('parcel.outbox keeps its 1 partition: --partitions 3 applies only when up creates the topic');
    const result = JSON.parse(again.stdout) as { alreadyReady: boolean; steps: { kind: string; action?: string }[] };
    expect(result.alreadyReady).toBe(true);
    expect(result.steps.every((s) => s.kind === 'service' && s.action === 'keep')).toBe(true);
    const status = JSON.parse((await outboxctl(['status', '--json'])).stdout) as { sink: string; services: { name: string; state: string }[] };
    expect(status.sink).toBe('embedded');
    expect(status.services.find((s) => s.name === 'sink')?.state).toBe('ready');
  });

  it('every listening socket of the stack is on loopback (no --host): ss -ltnp for its processes and their children', async () => {
    const state = await nativeStackState(home);
    const leaders = Object.values(state.services).flatMap((s) => (s.pid ? [s.pid] : []));
    expect(leaders.length).toBe(7);
    const ours = await processTree(leaders);
    const rows = (await listeners()).filter((l) => l.pids.some((p) => ours.has(p)));
    // The filter finds the stack's own sockets: every recorded port is among them (Kafka's controller, Elasticsearch's transport too).
    const recorded = Object.values(state.services).flatMap((s) => Object.values(s.ports));
    expect(recorded.length).toBe(9);
    for (const port of recorded)
      expect(
        rows.map((r) => r.port),
        `port ${port}`,
      ).toContain(port);
    const exposed = rows.filter((r) => !isLoopback(r.address));
    expect(exposed.map((r) => r.line)).toEqual([]);
  });

  it('tracking connects as its own role: exactly its grants, no superuser, owner of nothing; the flow works through it', async () => {
    const facts = await roleFacts(endpoints.database, 'tracking');
    expect(facts.grants).toEqual({
      debezium_heartbeat: [],
      flyway_schema_history: [],
      idempotency_key: ['SELECT', 'INSERT', 'UPDATE'],
      outbox: ['INSERT'],
      parcel: ['SELECT', 'INSERT', 'UPDATE'],
    });
    expect(facts.selectOutboxId).toBe(false);
    expect(facts.attributes).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
      rolcanlogin: true,
    });
    expect(facts.owned).toEqual([]);
    expect(facts.schema).toEqual({ usage: true, create: false });
    // The server's own settings name that role (read from its environment), and its connections are that role's.
    const tracking = (await nativeStackState(home)).services.tracking!;
    const environ = (await readFile(`/proc/${tracking.pid}/environ`, 'utf8')).split('\0');
    const url = new URL(environ.find((e) => e.startsWith('DATABASE_URL='))!.slice('DATABASE_URL='.length));
    expect(url.username).toBe('tracking');
    expect(decodeURIComponent(url.password)).toBe((await stackState(home)).secrets.trackingPassword);
    await api('POST', '/api/parcel', { contents: 'as tracking' });
    const { withPg } = await import('../../src/clients/pg.js');
    const users = await withPg(endpoints.database, (c) =>
      c.query<{ usename: string }>(
        "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'outbox' AND application_name <> 'psql' AND pid <> pg_backend_pid()",
      ),
    );
    expect(users.rows.map((r) => r.usename)).toContain('tracking');
  });

  it("the seed's sample request: one record with the event contract (read by kcat), one event document, one parcels document", async () => {
    const before = Date.now();
    const parcel = await api<Parcel & { contents: string }>('POST', '/api/parcel', { contents: 'Kotlin is cool' });
    const [record] = await eventually(
      'the record',
      async () => (await kcatRead('parcel.outbox')).filter((r) => r.key === parcel.id),
      (rs) => rs.length > 0,
    );
    const value = JSON.parse(record!.payload!) as Record<string, unknown>;
    // Event contract v1: key = parcel id; header id = event id; this value shape.
    expect(Object.keys(value).sort()).toEqual(['aggregateId', 'aggregateType', 'eventId', 'eventType', 'occurredAt', 'payload']);
    expect(value).toMatchObject({
      eventType: 'ParcelCreated',
      aggregateType: 'parcel',
      aggregateId: parcel.id,
      payload: { parcel: { id: parcel.id, contents: 'Kotlin is cool', version: 1 }, changed: ['contents', 'status'] },
    });
    expect(headersOf(record!).id).toBe(value.eventId);
    expect(typeof value.occurredAt).toBe('number');
    expect(Math.abs((value.occurredAt as number) - before)).toBeLessThan(5_000);

    const doc = await eventually(
      'the event document',
      () => es<{ found: boolean; _id: string; _source: Record<string, unknown> }>('GET', `/parcel.outbox/_doc/${String(value.eventId)}`),
      (d) => d.found,
    );
    expect(doc._id).toBe(value.eventId);
    expect(doc._source).toEqual(value);
    const state = await eventually(
      'the parcels document',
      () => es<{ found: boolean; _source: Record<string, unknown> }>('GET', `/parcels/_doc/${parcel.id}`),
      (d) => d.found,
    );
    expect(state._source).toMatchObject({ id: parcel.id, contents: 'Kotlin is cool', status: 'registered', version: 1, lastEventId: value.eventId });
    const mapping = await es<Record<string, { mappings: { properties: Record<string, { type: string; format?: string }> } }>>('GET', '/parcel.outbox/_mapping');
    expect(mapping['parcel.outbox']!.mappings.properties.occurredAt).toEqual({ type: 'date', format: 'epoch_millis' });
    expect(mapping['parcel.outbox']!.mappings.properties.eventId!.type).toBe('keyword');

    // --unwrap on the record Debezium wrote prints the event's fields.
    const unwrapped = await outboxctl(['topic', 'tail', 'parcel.outbox', '--from-beginning', '-e', '--unwrap', '--aggregate', parcel.id]);
    expect(unwrapped.exitCode, unwrapped.stderr).toBe(0);
    expect(JSON.parse(unwrapped.stdout)).toEqual({
      eventId: value.eventId,
      eventType: 'ParcelCreated',
      aggregateType: 'parcel',
      aggregateId: parcel.id,
      occurredAt: new Date(value.occurredAt as number).toISOString(),
      payload: value.payload,
    });
  });

  let ids: string[] = [];
  it('1,000 parcels created concurrently and updated twice: 3,000 records in commit order per key, 3,000 event documents, 1,000 parcels at version 3', async () => {
    ids = await createAndUpdate(1_000);
    await expectPipelineCounts(ids);
  });

  it('replaying the sink from the earliest offset changes no count and no parcel version', async () => {
    const total = await count('parcel.outbox');
    expect((await outboxctl(['stop', 'sink'])).exitCode).toBe(0);
    const reset = await outboxctl(['group', 'reset-offsets', 'connect-elasticsearch-sink', '--topic', 'parcel.outbox', '--to-earliest', '--execute']);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const up = await outboxctl(['up', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    const steps = (JSON.parse(up.stdout) as { steps: { kind: string; service: string; action?: string }[] }).steps;
    expect(steps.filter((s) => s.kind !== 'service' || s.action !== 'keep')).toEqual([{ kind: 'service', service: 'sink', action: 'start' }]);
    await eventually(
      'the sink has caught up again',
      async () => (JSON.parse((await outboxctl(['group', 'describe', 'connect-elasticsearch-sink', '--json'])).stdout) as { totalLag: number }).totalLag,
      (lag) => lag === 0,
    );
    // The first event was written again (document version 2), not duplicated.
    const first = await es<{ _version: number }>(
      'GET',
      `/parcel.outbox/_doc/${(JSON.parse((await kcatRead('parcel.outbox'))[0]!.payload!) as { eventId: string }).eventId}`,
    );
    expect(first._version).toBe(2);
    expect(await count('parcel.outbox')).toBe(total);
    expect(await count('parcels', { bool: { filter: [{ terms: { id: ids } }, { term: { version: 3 } }] } })).toBe(1_000);
  });

  it('a record Elasticsearch rejects goes to parcel.outbox.dlq with the reason in headers; the records after it are indexed', async () => {
    const { kafkaClient } = await import('../../src/clients/kafka.js');
    const producer = kafkaClient(endpoints.kafka).producer();
    await producer.connect();
    const base = { eventType: 'ParcelCreated', aggregateType: 'parcel', payload: { note: 'dlq test' } };
    await producer.send({
      topic: 'parcel.outbox',
      messages: [
        { key: 'dlq-1', value: JSON.stringify({ ...base, eventId: 'rejected-1', aggregateId: 'dlq-1', occurredAt: 'not a time' }) },
        { key: 'dlq-2', value: JSON.stringify({ ...base, eventId: 'after-rejected-1', aggregateId: 'dlq-2', occurredAt: Date.now() }) },
      ],
    });
    await producer.disconnect();
    const [dead] = await eventually(
      'the dead letter',
      async () => (await kcatRead('parcel.outbox.dlq')).filter((r) => r.key === 'dlq-1'),
      (rs) => rs.length > 0,
    );
    const headers = headersOf(dead!);
    expect(headers['__connect.errors.topic']).toBe('parcel.outbox');
    expect(headers['__connect.errors.exception.message']).toMatch(/mapper_parsing_exception.*occurredAt/);
    const original = (await kcatRead('parcel.outbox')).find((r) => r.key === 'dlq-1')!;
    expect(headers['__connect.errors.offset']).toBe(String(original.offset));
    expect(headers['__connect.errors.partition']).toBe(String(original.partition));
    expect(JSON.parse(dead!.payload!)).toMatchObject({ eventId: 'rejected-1' });
    await eventually(
      'the record after it',
      () => es<{ found: boolean }>('GET', '/parcel.outbox/_doc/after-rejected-1'),
      (d) => d.found,
    );
    expect((await es<{ found: boolean }>('GET', '/parcel.outbox/_doc/rejected-1')).found).toBe(false);
  });

  it('--outbox-delete-after-insert: the same counts hold and the outbox table stays empty', async () => {
    const restart = await outboxctl(['restart', 'tracking'], { OUTBOX_DELETE_AFTER_INSERT: 'true' });
    expect(restart.exitCode, restart.stderr).toBe(0);
    // Only now may it delete outbox rows (and read their id, which the delete's WHERE needs).
    const facts = await roleFacts(endpoints.database, 'tracking');
    expect(facts.grants.outbox).toEqual(['INSERT', 'DELETE']);
    expect(facts.selectOutboxId).toBe(true);
    const fresh = await createAndUpdate(1_000);
    await expectPipelineCounts(fresh);
    const { withPg } = await import('../../src/clients/pg.js');
    const rows = await withPg(endpoints.database, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE aggregateid = ANY($1)', [fresh]));
    expect(rows.rows[0]!.n).toBe('0');
  });

  it('writes in a session time zone far from UTC (Asia/Tokyo) carry occurredAt within a second of the commit; Debezium stays RUNNING', async () => {
    const { withPg } = await import('../../src/clients/pg.js');
    await withPg(endpoints.database, (c) => c.query("ALTER DATABASE outbox SET timezone = 'Asia/Tokyo'"));
    try {
      // New sessions (tracking's pool, Debezium's connection) now run in Tokyo time.
      expect((await outboxctl(['restart', 'tracking'])).exitCode).toBe(0);
      expect((await outboxctl(['connectors', 'restart', 'parcel-outbox-source', '--include-tasks'])).exitCode).toBe(0);
      expect(await withPg(endpoints.database, async (c) => (await c.query<{ TimeZone: string }>('SHOW timezone')).rows[0]!.TimeZone)).toBe('Asia/Tokyo');
      const committed: { id: string; at: number }[] = [];
      for (let i = 0; i < 5; i++) {
        const p = await api<Parcel>('POST', '/api/parcel', { contents: `tokyo ${i}` });
        committed.push({ id: p.id, at: Date.now() });
      }
      const wanted = new Map(committed.map((c) => [c.id, c.at]));
      const records = await eventually(
        'the Tokyo records',
        async () => (await kcatRead('parcel.outbox')).filter((r) => r.key !== null && wanted.has(r.key)),
        (rs) => rs.length === committed.length,
      );
      for (const r of records) {
        const occurredAt = (JSON.parse(r.payload!) as { occurredAt: number }).occurredAt;
        expect(Math.abs(occurredAt - wanted.get(r.key!)!)).toBeLessThan(1_000);
      }
      const status = JSON.parse((await outboxctl(['connectors', 'status', 'parcel-outbox-source', '--json'])).stdout) as {
        state: string;
        tasks: { state: string }[];
      };
      expect(status.state).toBe('RUNNING');
      expect(status.tasks.map((t) => t.state)).toEqual(['RUNNING']);
    } finally {
      await withPg(endpoints.database, (c) => c.query('ALTER DATABASE outbox RESET timezone'));
    }
  });

  it('restarted without delete-after-insert, tracking may no longer delete outbox rows', async () => {
    // The Tokyo test restarted it without OUTBOX_DELETE_AFTER_INSERT.
    const facts = await roleFacts(endpoints.database, 'tracking');
    expect(facts.grants.outbox).toEqual(['INSERT']);
    expect(facts.selectOutboxId).toBe(false);
  });

  it('up --token: a token per stack in the 0600 state file, handed to tracking and auditing (restarted for it) and kept by a later up without the flag', async () => {
    const before = await nativeStackState(home);
    expect(before.secrets.token).toBeUndefined();
    const environ = async (pid: number | undefined) =>
      Object.fromEntries((await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    // Off: set empty, so a token exported in the shell that ran `up` cannot turn it on.
    expect((await environ(before.services.tracking!.pid)).OUTBOXCTL_TOKEN).toBe('');
    const on = await outboxctl(['up', '--token', '--json']);
    expect(on.exitCode, on.stderr).toBe(0);
    const after = await nativeStackState(home);
    const token = after.secrets.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await stat(path.join(home, 'stacks', 'default', 'state.json'))).mode & 0o777).toBe(0o600);
    for (const s of ['tracking', 'auditing']) {
      expect(after.services[s]!.pid, s).not.toBe(before.services[s]!.pid);
      expect((await environ(after.services[s]!.pid)).OUTBOXCTL_TOKEN, s).toBe(token);
    }
    // Only those two: the sink and the infrastructure kept running, without it.
    expect(after.services.sink!.pid).toBe(before.services.sink!.pid);
    expect((await environ(after.services.sink!.pid)).OUTBOXCTL_TOKEN).toBeUndefined();
    // Once on, it stays on: no new token, no restart; a restarted server gets the same one.
    expect((await outboxctl(['up'])).exitCode).toBe(0);
    expect((await outboxctl(['restart', 'auditing'])).exitCode).toBe(0);
    const later = await nativeStackState(home);
    expect(later.secrets.token).toBe(token);
    expect(later.services.tracking!.pid).toBe(after.services.tracking!.pid);
    expect((await environ(later.services.auditing!.pid)).OUTBOXCTL_TOKEN).toBe(token);
  });
});
