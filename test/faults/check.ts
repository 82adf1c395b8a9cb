import { execa } from 'execa';
import pg from 'pg';
import { type Ledger, writeKey } from './ledger.js';

/**
 * The fault suite's checks, from the outside: the topic as kcat reads it, both indices over
 * HTTP, PostgreSQL's tables through `pg`. PostgreSQL decides what is extra (a write can commit
 * without its answer reaching the client); the ledger decides what is missing.
 */

export interface Endpoints {
  database: string;
  kafka: string;
  elasticsearch: string;
  tracking: string;
}

/** One event as the topic or the events index holds it. */
export interface EventRef {
  eventId: string;
  parcelId: string;
  version: number;
  contents: string;
}

export interface TopicRecord extends EventRef {
  key: string | null;
  partition: number;
  offset: number;
}

export interface Snapshot {
  topic: TopicRecord[];
  events: EventRef[];
  /** The `parcels` index: parcel id → version. */
  parcelDocs: Map<string, number>;
  outbox: EventRef[];
  /** The parcel table: id → { version, contents }. */
  parcels: Map<string, { version: number; contents: string }>;
  /** idempotency_key rows: key → parcel id (null while a create holds it). */
  keys: Map<string, string | null>;
}

interface EventValue {
  eventId?: string;
  aggregateId?: string;
  payload?: { parcel?: { id?: string; version?: number; contents?: string } };
}

function eventRef(value: EventValue, fallbackId = ''): EventRef {
  const parcel = value.payload?.parcel ?? {};
  return {
    eventId: value.eventId ?? fallbackId,
    parcelId: value.aggregateId ?? parcel.id ?? '',
    version: Number(parcel.version ?? Number.NaN),
    contents: parcel.contents ?? '',
  };
}

/** Every record of parcel.outbox, read by kcat from the beginning to the current end. */
export async function readTopic(kafka: string, topic = 'parcel.outbox'): Promise<TopicRecord[]> {
  const r = await execa('kcat', ['-C', '-b', kafka, '-t', topic, '-e', '-q', '-J'], { reject: false, maxBuffer: 512 * 1024 * 1024, timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`kcat -C -b ${kafka} -t ${topic} failed (exit ${r.exitCode}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const envelope = JSON.parse(line) as { partition: number; offset: number; key: string | null; payload: string | null };
      const value = envelope.payload ? (JSON.parse(envelope.payload) as EventValue) : {};
      return { ...eventRef(value), key: envelope.key, partition: envelope.partition, offset: envelope.offset };
    });
}

async function es<T>(base: string, method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await response.json()) as T;
  if (response.status >= 300) throw new Error(`${method} ${url}: HTTP ${response.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** Every document of an index, paged with search_after on `sortField` (a keyword). */
async function allDocuments<T>(base: string, index: string, sortField: string, source: string[]): Promise<{ id: string; source: T }[]> {
  const out: { id: string; source: T }[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const page = await es<{ hits: { hits: { _id: string; _source: T; sort: unknown[] }[] } }>(base, 'POST', `/${index}/_search`, {
      size: 5_000,
      sort: [{ [sortField]: 'asc' }],
      _source: source,
      query: { match_all: {} },
      ...(after ? { search_after: after } : {}),
    });
    const hits = page.hits.hits;
    for (const hit of hits) out.push({ id: hit._id, source: hit._source });
    if (hits.length < 5_000) return out;
    after = hits.at(-1)!.sort;
  }
}

/** Documents in the events index (after a refresh). */
export async function readEvents(base: string, refresh = true): Promise<EventRef[]> {
  if (refresh) await es(base, 'POST', '/parcel.outbox/_refresh');
  const docs = await allDocuments<EventValue>(base, 'parcel.outbox', 'eventId', [
    'eventId',
    'aggregateId',
    'payload.parcel.version',
    'payload.parcel.contents',
  ]);
  return docs.map((d) => ({ ...eventRef(d.source, d.id), eventId: d.id }));
}

/** The events index's document count (no refresh: what is searchable now). */
export async function countEvents(base: string): Promise<number> {
  return (await es<{ count: number }>(base, 'POST', '/parcel.outbox/_count', { query: { match_all: {} } })).count;
}

async function readParcelDocs(base: string): Promise<Map<string, number>> {
  await es(base, 'POST', '/parcels/_refresh');
  const docs = await allDocuments<{ version: number }>(base, 'parcels', 'id', ['version']);
  return new Map(docs.map((d) => [d.id, Number(d.source.version)]));
}

/** A short-lived connection: PostgreSQL may just have been killed, so nothing is pooled across scenarios. */
export async function withDb<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function readOutbox(client: pg.Client): Promise<EventRef[]> {
  const { rows } = await client.query<{ id: string; aggregateid: string; version: number; contents: string }>(
    `SELECT id::text, aggregateid, (payload->'parcel'->>'version')::int AS version, payload->'parcel'->>'contents' AS contents FROM outbox`,
  );
  return rows.map((r) => ({ eventId: r.id, parcelId: r.aggregateid, version: r.version, contents: r.contents }));
}

/** Everything the checks compare, read in an order that makes "extra" safe: the database last. */
export async function snapshot(endpoints: Endpoints): Promise<Snapshot> {
  const topic = await readTopic(endpoints.kafka);
  const events = await readEvents(endpoints.elasticsearch);
  const parcelDocs = await readParcelDocs(endpoints.elasticsearch);
  return withDb(endpoints.database, async (client) => {
    const outbox = await readOutbox(client);
    const parcelRows = await client.query<{ id: string; version: number; contents: string }>('SELECT id::text, version, contents FROM parcel');
    const keyRows = await client.query<{ key: string; parcel_id: string | null }>('SELECT key, parcel_id::text FROM idempotency_key');
    return {
      topic,
      events,
      parcelDocs,
      outbox,
      parcels: new Map(parcelRows.rows.map((r) => [r.id, { version: r.version, contents: r.contents }])),
      keys: new Map(keyRows.rows.map((r) => [r.key, r.parcel_id])),
    };
  });
}

/** A count and the first few examples. */
export interface Finding {
  count: number;
  first: string[];
}

const finding = (items: Iterable<string>): Finding => {
  const all = [...items];
  return { count: all.length, first: all.slice(0, 5) };
};

export interface Report {
  acked: number;
  /** Records of this scenario on the topic, repeats included. */
  records: number;
  /** Of them, records whose event id came before (Debezium's at-least-once after a crash). */
  repeated: number;
  /** Documents of this scenario in the events index. */
  documents: number;
  /** Acknowledged writes or committed outbox rows of this scenario without their record or document. */
  missing: Finding;
  /** Events or parcels (anywhere in the stack) with no source row in PostgreSQL. */
  extra: Finding;
  /** Committed outbox rows of earlier scenarios whose record or document is gone now. */
  missingEarlier: Finding;
  /** Keys whose versions go down along the topic once repeats are removed. */
  orderViolations: Finding;
  /** Parcels whose `parcels` document is missing or not at the table's version. */
  staleParcels: Finding;
  /** Idempotency keys that did not give exactly one parcel, or a parcel other than the one acknowledged. */
  idempotency: Finding;
  /** Two different events for one parcel version. */
  duplicateVersions: Finding;
}

/** Compares one scenario's ledger (writes tagged `tag`) with a snapshot of the whole stack. Pure. */
export function evaluate(ledger: Ledger, tag: string, s: Snapshot): Report {
  const mine = (e: { contents: string }) => e.contents.startsWith(`${tag}:`);
  const outboxIds = new Set(s.outbox.map((e) => e.eventId));
  const topicIds = new Set(s.topic.map((r) => r.eventId));
  const docIds = new Set(s.events.map((e) => e.eventId));
  const topicKeys = new Set(s.topic.map((r) => writeKey(r.parcelId, r.version)));
  const docKeys = new Set(s.events.map((e) => writeKey(e.parcelId, e.version)));
  const outboxKeys = new Set(s.outbox.map((e) => writeKey(e.parcelId, e.version)));

  const missing = new Set<string>();
  for (const key of ledger.writes.keys()) {
    if (!outboxKeys.has(key)) missing.add(`${key} acknowledged, no outbox row`);
    else if (!topicKeys.has(key)) missing.add(`${key} acknowledged, not on the topic`);
    else if (!docKeys.has(key)) missing.add(`${key} acknowledged, no event document`);
  }
  const missingEarlier = new Set<string>();
  for (const row of s.outbox) {
    const where = !topicIds.has(row.eventId) ? 'not on the topic' : !docIds.has(row.eventId) ? 'no event document' : undefined;
    if (!where) continue;
    if (mine(row)) missing.add(`${writeKey(row.parcelId, row.version)} (event ${row.eventId}) committed, ${where}`);
    else missingEarlier.add(`${writeKey(row.parcelId, row.version)} (event ${row.eventId}) committed, ${where}`);
  }

  const extra = new Set<string>();
  for (const r of s.topic) if (!outboxIds.has(r.eventId)) extra.add(`record ${r.partition}/${r.offset} (event ${r.eventId}) has no outbox row`);
  for (const e of s.events) if (!outboxIds.has(e.eventId)) extra.add(`document ${e.eventId} has no outbox row`);
  for (const id of s.parcelDocs.keys()) if (!s.parcels.has(id)) extra.add(`parcels document ${id} has no parcel row`);

  // Per key, in offset order: drop repeated event ids, then versions must only go up.
  const byKey = new Map<string, TopicRecord[]>();
  for (const r of [...s.topic].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const k = `${r.partition}/${r.key}`;
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  }
  const orderViolations: string[] = [];
  let repeated = 0;
  for (const [k, records] of byKey) {
    const seen = new Set<string>();
    let last = 0;
    for (const r of records) {
      if (seen.has(r.eventId)) {
        if (mine(r)) repeated++;
        continue;
      }
      seen.add(r.eventId);
      if (r.version <= last) orderViolations.push(`key ${k}: version ${r.version} at offset ${r.offset} after version ${last}`);
      last = Math.max(last, r.version);
    }
  }

  const staleParcels: string[] = [];
  for (const [id, row] of s.parcels) {
    const doc = s.parcelDocs.get(id);
    if (doc !== row.version)
      staleParcels.push(`parcel ${id}: table at version ${row.version}, parcels document ${doc === undefined ? 'missing' : `at ${doc}`}`);
  }

  const idempotency: string[] = [];
  const keyed = new Map<string, string>();
  for (const [key, parcelId] of s.keys) {
    if (!key.startsWith(`${tag}:`)) continue;
    if (!parcelId) idempotency.push(`key ${key} holds no parcel`);
    else keyed.set(parcelId, key);
  }
  for (const [id, row] of s.parcels) if (mine(row) && !keyed.has(id)) idempotency.push(`parcel ${id} (${row.contents}) was created by no idempotency key`);
  for (const [key, parcelId] of ledger.createsByKey()) {
    const stored = s.keys.get(key);
    if (stored !== parcelId) idempotency.push(`key ${key}: acknowledged parcel ${parcelId}, the table says ${stored ?? 'nothing'}`);
  }

  const eventsByKey = new Map<string, Set<string>>();
  for (const e of s.outbox) eventsByKey.set(writeKey(e.parcelId, e.version), (eventsByKey.get(writeKey(e.parcelId, e.version)) ?? new Set()).add(e.eventId));
  const duplicateVersions = [...eventsByKey].filter(([, ids]) => ids.size > 1).map(([key, ids]) => `${key}: events ${[...ids].join(', ')}`);

  return {
    acked: ledger.stats.acked,
    records: s.topic.filter(mine).length,
    repeated,
    documents: s.events.filter(mine).length,
    missing: finding(missing),
    extra: finding(extra),
    missingEarlier: finding(missingEarlier),
    orderViolations: finding(orderViolations),
    staleParcels: finding(staleParcels),
    idempotency: finding(idempotency),
    duplicateVersions: finding(duplicateVersions),
  };
}

/**
 * Waits until the events index holds every acknowledged write of the ledger and every outbox
 * row; the moment it does, or undefined after `timeoutMs`. Counts first (cheap), ids then.
 */
export async function waitCaughtUp(endpoints: Endpoints, ledger: Ledger, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const outbox = await withDb(endpoints.database, readOutbox);
      if ((await countEvents(endpoints.elasticsearch)) >= outbox.length) {
        const docs = await readEvents(endpoints.elasticsearch, false);
        const ids = new Set(docs.map((d) => d.eventId));
        const keys = new Set(docs.map((d) => writeKey(d.parcelId, d.version)));
        if (outbox.every((row) => ids.has(row.eventId)) && [...ledger.writes.keys()].every((k) => keys.has(k))) return Date.now();
      }
    } catch {
      // An engine still coming back: try again.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

/**
 * When every given write (parcel id + version) has its document in the events index: the backlog a
 * fault built, caught up while the load goes on. Undefined after `timeoutMs`.
 */
export async function waitWritesIndexed(endpoints: Endpoints, keys: Set<string>, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const docs = await readEvents(endpoints.elasticsearch, false);
      const indexed = new Set(docs.map((d) => writeKey(d.parcelId, d.version)));
      if ([...keys].every((k) => indexed.has(k))) return Date.now();
    } catch {
      // An engine still coming back: try again.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

/** Bytes of WAL the slot has not confirmed yet (pg_current_wal_lsn() − confirmed_flush_lsn); undefined without the slot. */
export async function slotLagBytes(database: string, slot: string): Promise<number | undefined> {
  return withDb(database, async (client) => {
    const { rows } = await client.query<{ lag: string | null }>(
      'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    return rows[0]?.lag == null ? undefined : Number(rows[0].lag);
  });
}
