import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPg } from '../../src/clients/pg.js';
import { migrate } from '../../src/migrations/engine.js';
import { defaultLocation } from '../../src/migrations/scripts.js';
import { type AuditingServer, createAuditingServer } from '../../src/servers/auditing/app.js';
import { createTrackingServer, type TrackingServer } from '../../src/servers/tracking/app.js';
import { MAX_CONTENTS } from '../../src/servers/tracking/parcel.js';
import { freshDatabase } from '../helpers/db.js';
import { type FakeElasticsearch, fakeElasticsearch } from '../helpers/fake-elasticsearch.js';

/**
 * Property-based checks of the servers over HTTP: whatever a client sends, the answer is a success
 * or a 4xx problem, never a 500. Bounded runs, so the file stays in the fast project.
 */
const RUNS = { numRuns: 150 };

interface Answer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: (await response.json()) as Record<string, unknown> };
}

/** A 2xx, or a 4xx that is problem+json and says its own status. */
function expectNoServerError(answer: Answer, what: string): void {
  expect(answer.status, `${what} → ${JSON.stringify(answer.body)}`).toBeLessThan(500);
  if (answer.status >= 400) {
    expect(answer.contentType, what).toContain('application/problem+json');
    expect(answer.body.status, what).toBe(answer.status);
    expect(answer.body.detail, what).toMatch(/\.$/);
  }
}

const body = (method: string, text: string, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: text,
});
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');

/** Text of any UTF-16 code units, with the awkward ones (NUL, both halves of a pair alone, an astral character) common. */
const anyText = fc.string({
  unit: fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udfff', '😀', 'a'), fc.string({ unit: 'binary', maxLength: 1 })),
  maxLength: 30,
});

/** Any JSON; objects with a `contents` (and a `status`) of any JSON; and contents of any text. */
const jsonBodies = fc.oneof(
  fc.json({ stringUnit: 'binary', maxDepth: 3 }),
  fc.record({ contents: fc.jsonValue({ stringUnit: 'binary', maxDepth: 2 }) }).map((b) => JSON.stringify(b)),
  fc.record({ contents: anyText, status: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }) }).map((b) => JSON.stringify(b)),
  fc.string({ maxLength: 40 }),
);

/** What the tracking server must store as given: 1 to MAX_CONTENTS characters, none of them NUL or half a surrogate pair. */
const validContents = fc.string({ unit: 'binary', minLength: 1, maxLength: 120 }).filter((s) => !s.includes('\u0000') && !/\p{Cs}/u.test(s));

/** base64url of [a date-ish string, a uuid]: real days, impossible ones and garbage. */
const dateish = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 25 }))
    .map(
      ([y, m, d, h]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00.000000Z`,
    ),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
);

describe('tracking server: no body is a 500', () => {
  let server: TrackingServer;
  let existing: string;
  beforeAll(async () => {
    const url = await freshDatabase('prop');
    await withPg(url, (c) => migrate(c, { locations: [defaultLocation()] }));
    server = await createTrackingServer({ databaseUrl: url, port: 0 });
    existing = (await send(`${server.url}/api/parcel`, body('POST', JSON.stringify({ contents: 'target of the updates' })))).body.id as string;
  });
  afterAll(async () => server?.close());

  it('POST and PUT with arbitrary JSON answer 2xx or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(jsonBodies, fc.constantFrom('POST', 'PUT'), async (text, method) => {
        const url = method === 'POST' ? `${server.url}/api/parcel` : `${server.url}/api/parcel/${existing}`;
        expectNoServerError(await send(url, body(method, text)), `${method} ${text}`);
      }),
      RUNS,
    );
  });

  it('contents of any code units are stored exactly as sent, or refused with a 400 naming contents: never changed silently', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (contents) => {
        const created = await send(`${server.url}/api/parcel`, body('POST', JSON.stringify({ contents })));
        expectNoServerError(created, JSON.stringify(contents));
        if (created.status === 201) expect((await send(`${server.url}/api/parcel/${created.body.id}`)).body.contents).toBe(contents);
        else expect(created.body).toMatchObject({ status: 400, field: 'contents' });
      }),
      RUNS,
    );
  });

  it('valid contents are accepted and read back exactly, on create and on update', async () => {
    await fc.assert(
      fc.asyncProperty(validContents, validContents, async (first, second) => {
        const created = await send(`${server.url}/api/parcel`, body('POST', JSON.stringify({ contents: first })));
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body.contents).toBe(first);
        const updated = await send(`${server.url}/api/parcel/${created.body.id}`, body('PUT', JSON.stringify({ contents: second, status: 'in_transit' })));
        expect(updated.status, JSON.stringify(updated.body)).toBe(200);
        expect((await send(`${server.url}/api/parcel/${created.body.id}`)).body).toMatchObject({ contents: second, status: 'in_transit' });
      }),
      { numRuns: 60 },
    );
    const longest = await send(`${server.url}/api/parcel`, body('POST', JSON.stringify({ contents: '😀'.repeat(MAX_CONTENTS) })));
    expect(longest.status).toBe(201);
  });

  it('GET /api/parcel with any cursor answers 200 or a 400 naming it', async () => {
    const cursors = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      dateish.map((d) => base64url([d, randomUUID()])),
      fc.jsonValue({ maxDepth: 2 }).map(base64url),
    );
    await fc.assert(
      fc.asyncProperty(cursors, async (cursor) => {
        const answer = await send(`${server.url}/api/parcel?limit=2&cursor=${encodeURIComponent(cursor)}`);
        expectNoServerError(answer, cursor);
        if (answer.status !== 200) expect(answer.body).toMatchObject({ status: 400, field: 'cursor' });
      }),
      RUNS,
    );
  });
});

describe('auditing server: no cursor is a 500 (nor a 503 from a search_after the engine refuses)', () => {
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

  it('/parcels and /events with any cursor answer 200 or a 400 naming it', async () => {
    const cursors = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      fc.tuple(fc.oneof(dateish, fc.integer(), fc.double()), fc.oneof(fc.uuid(), fc.jsonValue({ maxDepth: 1 }))).map(base64url),
      fc.jsonValue({ maxDepth: 2 }).map(base64url),
    );
    await fc.assert(
      fc.asyncProperty(cursors, fc.constantFrom('/parcels', '/events'), async (cursor, path) => {
        const answer = await send(`${server.url}${path}?cursor=${encodeURIComponent(cursor)}`);
        expectNoServerError(answer, `${path} ${cursor}`);
        expect([200, 400], JSON.stringify(answer.body)).toContain(answer.status);
        if (answer.status === 400) expect(answer.body.field).toBe('cursor');
      }),
      RUNS,
    );
  });
});
