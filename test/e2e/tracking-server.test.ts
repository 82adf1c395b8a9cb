import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPg } from '../../src/clients/pg.js';
import { migrate } from '../../src/migrations/engine.js';
import { defaultLocation } from '../../src/migrations/scripts.js';
import { createTrackingServer, type TrackingServer } from '../../src/servers/tracking/app.js';
import { freshDatabase, query } from '../helpers/db.js';

interface ParcelBody {
  id: string;
  contents: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

async function migratedDatabase(): Promise<string> {
  const url = await freshDatabase('trk');
  await withPg(url, (c) => migrate(c, { locations: [defaultLocation()] }));
  return url;
}

async function counts(url: string) {
  const [row] = await query<{ parcels: string; outbox: string }>(
    url,
    'SELECT (SELECT count(*) FROM parcel) AS parcels, (SELECT count(*) FROM outbox) AS outbox',
  );
  return { parcels: Number(row!.parcels), outbox: Number(row!.outbox) };
}

async function outboxRows(url: string, aggregateId: string) {
  return query<{ id: string; aggregatetype: string; aggregateid: string; type: string; payload: { parcel: ParcelBody; changed: string[] }; occurred_at: Date }>(
    url,
    'SELECT * FROM outbox WHERE aggregateid = $1 ORDER BY occurred_at, type',
    [aggregateId],
  );
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const json = (method: string, body: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

describe('tracking server on a real PostgreSQL', () => {
  let url: string;
  let server: TrackingServer;

  beforeAll(async () => {
    url = await migratedDatabase();
    server = await createTrackingServer({ databaseUrl: url, port: 0 });
  });
  afterAll(async () => server?.close());

  it("answers the seed's curl request with 201, Location and ETag, and writes one ParcelCreated event", async () => {
    const { stdout } = await execa('curl', [
      '-s',
      '-i',
      '-X',
      'POST',
      `${server.url}/api/parcel`,
      '-H',
      'Content-Type:application/json',
      '-d',
      '{"contents":"Kotlin is cool"}',
    ]);
    const [head, body] = stdout.split(/\r?\n\r?\n/);
    expect(head).toMatch(/^HTTP\/1\.1 201 Created/);
    const parcel = JSON.parse(body!) as ParcelBody;
    expect(parcel).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      contents: 'Kotlin is cool',
      status: 'registered',
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(parcel.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(head).toMatch(new RegExp(`location: /api/parcel/${parcel.id}`, 'i'));
    expect(head).toMatch(/etag: "1"/i);

    const events = await outboxRows(url, parcel.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      aggregatetype: 'parcel',
      aggregateid: parcel.id,
      type: 'ParcelCreated',
      payload: { parcel, changed: ['contents', 'status'] },
    });
    expect(Math.abs(events[0]!.occurred_at.getTime() - Date.parse(parcel.createdAt))).toBeLessThan(1_000);
  });

  it('an update adds one ParcelUpdated event with what changed; a no-op update adds none', async () => {
    const created = (await (await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'box' }))).json()) as ParcelBody;
    const res = await fetch(`${server.url}/api/parcel/${created.id}`, json('PUT', { status: 'in_transit' }, { 'If-Match': '"1"' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    const updated = (await res.json()) as ParcelBody;
    expect(updated).toMatchObject({ id: created.id, status: 'in_transit', contents: 'box', version: 2 });
    let events = await outboxRows(url, created.id);
    expect(events.map((e) => [e.type, e.payload.changed])).toEqual([
      ['ParcelCreated', ['contents', 'status']],
      ['ParcelUpdated', ['status']],
    ]);
    expect(events[1]!.payload.parcel).toEqual(updated);

    const noop = await fetch(`${server.url}/api/parcel/${created.id}`, json('PUT', { status: 'in_transit', contents: 'box' }));
    expect(noop.status).toBe(200);
    expect(((await noop.json()) as ParcelBody).version).toBe(2);
    events = await outboxRows(url, created.id);
    expect(events).toHaveLength(2);

    const both = (await (
      await fetch(`${server.url}/api/parcel/${created.id}`, json('PUT', { status: 'delivered', contents: 'big box' }))
    ).json()) as ParcelBody;
    expect(both.version).toBe(3);
    expect((await outboxRows(url, created.id)).at(-1)!.payload.changed).toEqual(['contents', 'status']);
  });

  it('gets one parcel and pages newest first with a cursor, without gaps or repeats', async () => {
    const own = await migratedDatabase();
    const s = await createTrackingServer({ databaseUrl: own, port: 0 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(((await (await fetch(`${s.url}/api/parcel`, json('POST', { contents: `p${i}` }))).json()) as ParcelBody).id);
      const one = await fetch(`${s.url}/api/parcel/${ids[3]}`);
      expect(one.status).toBe(200);
      expect(one.headers.get('etag')).toBe('"1"');
      expect(((await one.json()) as ParcelBody).contents).toBe('p3');
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await (await fetch(`${s.url}/api/parcel?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
          items: ParcelBody[];
          nextCursor: string | null;
        };
        seen.push(...page.items.map((p) => p.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    } finally {
      await s.close();
    }
  });

  it('health says the database answers', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'up' });
  });
});

describe('atomicity: parcel and outbox rows commit together or not at all', () => {
  it('a fault in the outbox insert fails the request and leaves neither row', async () => {
    const url = await migratedDatabase();
    const server = await createTrackingServer({ databaseUrl: url, port: 0 });
    try {
      const before = (await (await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'before the fault' }))).json()) as ParcelBody;
      await query(url, `CREATE FUNCTION fail_outbox() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql`);
      await query(url, 'CREATE TRIGGER outbox_fault BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION fail_outbox()');
      const start = await counts(url);

      const create = await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'doomed' }));
      expect([500, 503]).toContain(create.status);
      expect(create.headers.get('content-type')).toContain('application/problem+json');
      const update = await fetch(`${server.url}/api/parcel/${before.id}`, json('PUT', { status: 'delivered' }));
      expect([500, 503]).toContain(update.status);

      expect(await counts(url)).toEqual(start);
      expect(await query(url, "SELECT 1 FROM parcel WHERE contents = 'doomed'")).toEqual([]);
      expect((await query<{ version: number; status: string }>(url, 'SELECT version, status FROM parcel WHERE id = $1', [before.id]))[0]).toEqual({
        version: 1,
        status: 'registered',
      });
    } finally {
      await server.close();
    }
  });
});

describe('concurrency', () => {
  it('1,000 concurrent creates leave exactly 1,000 parcels and 1,000 events', async () => {
    const url = await migratedDatabase();
    const server = await createTrackingServer({ databaseUrl: url, port: 0 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => fetch(`${server.url}/api/parcel`, json('POST', { contents: `parcel ${i}` })).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(1000);
      expect(await counts(url)).toEqual({ parcels: 1000, outbox: 1000 });
      const [pairs] = await query<{ n: string }>(
        url,
        "SELECT count(*) AS n FROM parcel p JOIN outbox o ON o.aggregateid = p.id::text AND o.type = 'ParcelCreated'",
      );
      expect(Number(pairs!.n)).toBe(1000);
    } finally {
      await server.close();
    }
  });

  it('50 concurrent If-Match updates at one version: one 200, 49 × 412', async () => {
    const url = await migratedDatabase();
    const server = await createTrackingServer({ databaseUrl: url, port: 0 });
    try {
      const parcel = (await (await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'contested' }))).json()) as ParcelBody;
      const statuses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fetch(`${server.url}/api/parcel/${parcel.id}`, json('PUT', { contents: `writer ${i}` }, { 'If-Match': '"1"' })).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(49);
      expect(await counts(url)).toEqual({ parcels: 1, outbox: 2 });
      expect((await query<{ version: number }>(url, 'SELECT version FROM parcel'))[0]!.version).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('delete-after-insert: the outbox stays empty while logical decoding sees 1,000 inserts', async () => {
    const url = await migratedDatabase();
    const slot = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await query(url, "SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [slot]);
    const server = await createTrackingServer({ databaseUrl: url, port: 0, outboxDeleteAfterInsert: true });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => fetch(`${server.url}/api/parcel`, json('POST', { contents: `parcel ${i}` })).then((r) => r.status)),
      );
      expect(statuses.every((s) => s === 201)).toBe(true);
      expect(await counts(url)).toEqual({ parcels: 1000, outbox: 0 });
      const [changes] = await query<{ inserts: string; deletes: string }>(
        url,
        `SELECT count(*) FILTER (WHERE data LIKE 'table public.outbox: INSERT:%') AS inserts,
                count(*) FILTER (WHERE data LIKE 'table public.outbox: DELETE:%') AS deletes
         FROM pg_logical_slot_get_changes($1, NULL, NULL)`,
        [slot],
      );
      expect(Number(changes!.inserts)).toBe(1000);
      expect(Number(changes!.deletes)).toBe(1000);
    } finally {
      await server.close();
      await query(url, 'SELECT pg_drop_replication_slot($1)', [slot]);
    }
  });
});

describe('idempotency', () => {
  it('20 concurrent POSTs with one key and body create one parcel and one event, all with the same id', async () => {
    const url = await migratedDatabase();
    const server = await createTrackingServer({ databaseUrl: url, port: 0 });
    try {
      const key = randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${server.url}/api/parcel`, json('POST', { contents: 'once only' }, { 'Idempotency-Key': key })).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as ParcelBody,
          })),
        ),
      );
      expect(new Set(responses.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect(await counts(url)).toEqual({ parcels: 1, outbox: 1 });

      const other = await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'something else' }, { 'Idempotency-Key': key }));
      expect(other.status).toBe(422);
      expect(other.headers.get('content-type')).toContain('application/problem+json');
      expect(await counts(url)).toEqual({ parcels: 1, outbox: 1 });
    } finally {
      await server.close();
    }
  });
});

describe('one answer, three places: the response, the stored replay and the outbox payload agree', () => {
  it('a replayed create answers the first body exactly; GET and the ParcelCreated payload show the same parcel', async () => {
    const url = await migratedDatabase();
    const server = await createTrackingServer({ databaseUrl: url, port: 0 });
    try {
      const key = `k-${randomUUID()}`;
      const send = () => fetch(`${server.url}/api/parcel`, json('POST', { contents: 'same "answer" \\ ünïcode ✓' }, { 'Idempotency-Key': key }));
      const first = await send();
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const created = (await first.json()) as ParcelBody;
      expect(created).toMatchObject({ contents: 'same "answer" \\ ünïcode ✓', status: 'registered', version: 1 });
      expect(created.updatedAt).toBe(created.createdAt);

      const again = await send();
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('location')).toBe(`/api/parcel/${created.id}`);
      expect(again.headers.get('etag')).toBe('"1"');
      expect(await again.json()).toEqual(created);

      // GET formats the row's times in Node, the create in SQL: both truncate to the millisecond.
      expect(await (await fetch(`${server.url}/api/parcel/${created.id}`)).json()).toEqual(created);
      const events = await outboxRows(url, created.id);
      expect(events).toHaveLength(1);
      expect(events[0]!.payload).toEqual({ parcel: created, changed: ['contents', 'status'] });
      const [stored] = await query<{ status_code: number; response: ParcelBody; parcel_id: string }>(
        url,
        'SELECT status_code, response, parcel_id FROM idempotency_key WHERE key = $1',
        [key],
      );
      expect(stored).toEqual({ status_code: 201, response: created, parcel_id: created.id });
      expect(await counts(url)).toEqual({ parcels: 1, outbox: 1 });
    } finally {
      await server.close();
    }
  });

  it('delete-after-insert with an idempotency key: one parcel, a replay, an empty outbox', async () => {
    const url = await migratedDatabase();
    const server = await createTrackingServer({ databaseUrl: url, port: 0, outboxDeleteAfterInsert: true });
    try {
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${server.url}/api/parcel`, json('POST', { contents: 'once, deleted' }, { 'Idempotency-Key': key })).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as ParcelBody,
          })),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
      // A replay's body comes from jsonb (its own key order): equal as objects.
      for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
      expect(await counts(url)).toEqual({ parcels: 1, outbox: 0 });
    } finally {
      await server.close();
    }
  });
});

describe('bad input: problem+json and nothing changes', () => {
  let url: string;
  let server: TrackingServer;
  let existing: ParcelBody;
  beforeAll(async () => {
    url = await migratedDatabase();
    server = await createTrackingServer({ databaseUrl: url, port: 0 });
    existing = (await (await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'keep me' }))).json()) as ParcelBody;
  });
  afterAll(async () => server?.close());

  const cases: { name: string; request: () => [string, RequestInit]; status: number; field?: string }[] = [
    {
      name: 'malformed JSON',
      request: () => ['/api/parcel', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"contents": ' }],
      status: 400,
    },
    { name: 'missing contents', request: () => ['/api/parcel', json('POST', {})], status: 400, field: 'contents' },
    { name: 'empty contents', request: () => ['/api/parcel', json('POST', { contents: '' })], status: 400, field: 'contents' },
    { name: 'non-string contents', request: () => ['/api/parcel', json('POST', { contents: 42 })], status: 400, field: 'contents' },
    { name: 'over-long contents', request: () => ['/api/parcel', json('POST', { contents: 'x'.repeat(10_001) })], status: 400, field: 'contents' },
    { name: 'unknown status', request: () => [`/api/parcel/${existing.id}`, json('PUT', { status: 'lost' })], status: 400, field: 'status' },
    {
      name: 'over-long contents on update',
      request: () => [`/api/parcel/${existing.id}`, json('PUT', { contents: 'y'.repeat(10_001) })],
      status: 400,
      field: 'contents',
    },
    { name: 'body over 64 KiB', request: () => ['/api/parcel', json('POST', { contents: 'z'.repeat(70_000) })], status: 413 },
    {
      name: 'non-JSON content type',
      request: () => ['/api/parcel', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'Kotlin is cool' }],
      status: 415,
    },
    { name: 'invalid uuid in the path (GET)', request: () => ['/api/parcel/not-a-uuid', { method: 'GET' }], status: 400, field: 'id' },
    { name: 'invalid uuid in the path (PUT)', request: () => ['/api/parcel/not-a-uuid', json('PUT', { status: 'delivered' })], status: 400, field: 'id' },
    { name: 'unknown id (GET)', request: () => [`/api/parcel/${randomUUID()}`, { method: 'GET' }], status: 404 },
    { name: 'unknown id (PUT)', request: () => [`/api/parcel/${randomUUID()}`, json('PUT', { status: 'delivered' })], status: 404 },
    { name: 'stale If-Match', request: () => [`/api/parcel/${existing.id}`, json('PUT', { status: 'delivered' }, { 'If-Match': '"7"' })], status: 412 },
    { name: 'bad limit', request: () => ['/api/parcel?limit=0', { method: 'GET' }], status: 400, field: 'limit' },
    { name: 'bad cursor', request: () => ['/api/parcel?cursor=garbage', { method: 'GET' }], status: 400, field: 'cursor' },
    { name: 'NUL in contents', request: () => ['/api/parcel', json('POST', { contents: 'before\u0000after' })], status: 400, field: 'contents' },
    { name: 'NUL in contents on update', request: () => [`/api/parcel/${existing.id}`, json('PUT', { contents: '\u0000' })], status: 400, field: 'contents' },
    { name: 'lone surrogate in contents', request: () => ['/api/parcel', json('POST', { contents: 'half \ud800 a pair' })], status: 400, field: 'contents' },
    {
      name: 'If-Match that is no version',
      request: () => [`/api/parcel/${existing.id}`, json('PUT', { status: 'delivered' }, { 'If-Match': '"abc"' })],
      status: 400,
      field: 'If-Match',
    },
    {
      name: 'cursor with an impossible date',
      request: () => [`/api/parcel?cursor=${cursorOf(['2026-02-30T00:00:00.000000Z', randomUUID()])}`, { method: 'GET' }],
      status: 400,
      field: 'cursor',
    },
    {
      name: 'cursor with a date PostgreSQL cannot read',
      request: () => [`/api/parcel?cursor=${cursorOf(['1', randomUUID()])}`, { method: 'GET' }],
      status: 400,
      field: 'cursor',
    },
    { name: 'query over the header limit', request: () => [`/api/parcel?cursor=${'c'.repeat(20_000)}`, { method: 'GET' }], status: 431 },
  ];

  it.each(cases)('$name → $status', async ({ request, status, field }) => {
    const before = await counts(url);
    const [path, init] = request();
    const res = await fetch(`${server.url}${path}`, init);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: expect.stringMatching(/^urn:outboxctl:problem:/),
      title: expect.any(String),
      status,
      detail: expect.stringMatching(/\.$/),
    });
    if (field) expect(body.field).toBe(field);
    expect(await counts(url)).toEqual(before);
    expect(
      (await query<{ version: number; contents: string; status: string }>(url, 'SELECT version, contents, status FROM parcel WHERE id = $1', [existing.id]))[0],
    ).toEqual({ version: 1, contents: 'keep me', status: 'registered' });
  });

  it('a bad If-Match is quoted once, as sent', async () => {
    for (const header of ['"abc"', 'abc', 'W/"x"']) {
      const res = await fetch(`${server.url}/api/parcel/${existing.id}`, json('PUT', { status: 'delivered' }, { 'If-Match': header }));
      const { detail } = (await res.json()) as { detail: string };
      expect(detail).toContain(`If-Match: ${header} `);
      expect(detail).not.toContain('""');
    }
  });

  it('a database that is down → 503 on writes and on /health', async () => {
    const down = await createTrackingServer({ databaseUrl: 'postgres://postgres:x@127.0.0.1:1/outbox', port: 0 });
    try {
      const res = await fetch(`${down.url}/api/parcel`, json('POST', { contents: 'nowhere' }));
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { title: string }).title).toBe('Database unavailable');
      const health = await fetch(`${down.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'unavailable', database: 'down' });
    } finally {
      await down.close();
    }
  });
});

describe('bearer token', () => {
  let url: string;
  let server: TrackingServer;
  const token = 'tracking-secret-7';
  beforeAll(async () => {
    url = await migratedDatabase();
    server = await createTrackingServer({ databaseUrl: url, port: 0, token });
  });
  afterAll(async () => server?.close());

  it('every route but /health answers 401 problem+json with WWW-Authenticate without the token, and writes nothing', async () => {
    const attempts: [string, RequestInit][] = [
      ['/api/parcel', json('POST', { contents: 'no token' })],
      ['/api/parcel', json('POST', { contents: 'wrong token' }, { Authorization: 'Bearer tracking-secret-8' })],
      ['/api/parcel', json('POST', { contents: 'longer token' }, { Authorization: `Bearer ${token}${token}` })],
      ['/api/parcel', json('POST', { contents: 'not bearer' }, { Authorization: `Basic ${token}` })],
      ['/api/parcel', { method: 'GET' }],
      [`/api/parcel/${randomUUID()}`, { method: 'GET' }],
      ['/no/such/route', { method: 'GET' }],
    ];
    for (const [path, init] of attempts) {
      const res = await fetch(`${server.url}${path}`, init);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="outboxctl"/);
      expect(await res.json()).toMatchObject({ type: 'urn:outboxctl:problem:unauthorized', status: 401, detail: expect.stringMatching(/\.$/) });
    }
    expect(await counts(url)).toEqual({ parcels: 0, outbox: 0 });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const ok = await fetch(`${server.url}/api/parcel`, json('POST', { contents: 'with token' }, { Authorization: `Bearer ${token}` }));
    expect(ok.status).toBe(201);
    expect(await counts(url)).toEqual({ parcels: 1, outbox: 1 });
  });
});
