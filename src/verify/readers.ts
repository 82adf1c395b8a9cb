import type { KafkaAdmin } from '../clients/kafka.js';
import type { KafkaRecord, PartitionReader } from '../clients/kafka-reader.js';
import type { PgClient } from '../clients/pg.js';
import type { SearchClient } from '../clients/search.js';
import { isUuid } from '../lib/uuid.js';
import { unwrapOutbox } from '../tail/outbox.js';
import { TOPIC_KEY, TOPIC_VERSION } from './compare.js';
import { IdTable, type KeyIndex } from './ids.js';
import type { VerifyWindow } from './window.js';

/** Rows per keyset page of PostgreSQL, documents per search_after page, ids per look-up. */
const PG_PAGE = 10_000;
const SEARCH_PAGE = 10_000;
const LOOKUP_CHUNK = 1_000;
/** Records are looked up by timestamp this much earlier than the window: the record time is the event's, give or take. */
const OFFSET_MARGIN_MS = 5 * 60_000;

type Sql = Pick<PgClient, 'query'>;

async function arrays(client: Sql, text: string, values: unknown[]): Promise<unknown[][]> {
  return (await client.query({ text, values, rowMode: 'array' })).rows as unknown[][];
}

/** The outbox's size and its oldest and newest rows' event times (ms), whatever the window. */
export async function outboxSummary(client: Sql): Promise<{ rows: number; oldestMs: number | null; newestMs: number | null }> {
  const [row] = await arrays(
    client,
    'SELECT count(*)::float8, round(extract(epoch FROM min(occurred_at)) * 1000)::float8, round(extract(epoch FROM max(occurred_at)) * 1000)::float8 FROM outbox',
    [],
  );
  const ms = (v: unknown) => (v === null ? null : Number(v));
  return { rows: Number(row![0]), oldestMs: ms(row![1]), newestMs: ms(row![2]) };
}

/**
 * A keyset scan in id order (ORDER BY the uuid column, never its text: that would sort the table per page): `select` yields (id, …) rows after the last id of the previous page,
 * so no snapshot is held open and no cursor is needed.
 */
async function scanById(
  client: Sql,
  build: (after: boolean) => string,
  values: unknown[],
  onRow: (row: unknown[]) => void,
  onPage: (rows: number) => void = () => undefined,
): Promise<void> {
  let last: string | undefined;
  for (;;) {
    const rows = await arrays(client, build(last !== undefined), last === undefined ? values : [...values, last]);
    for (const row of rows) onRow(row);
    onPage(rows.length);
    if (rows.length < PG_PAGE) return;
    last = String(rows.at(-1)![0]);
  }
}

/** Outbox rows whose event time lies in the window, in id order: id and occurredAt (ms). */
export async function readOutbox(client: Sql, window: VerifyWindow, table: IdTable, onPage?: (rows: number) => void): Promise<void> {
  const values: unknown[] = [window.toMs];
  let where = "occurred_at <= (to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC')";
  if (window.fromMs !== null) {
    values.push(window.fromMs);
    where += " AND occurred_at >= (to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC')";
  }
  const next = values.length + 1;
  await scanById(
    client,
    (after) =>
      `SELECT id::text AS event_id, round(extract(epoch FROM occurred_at) * 1000)::float8 FROM outbox WHERE ${where}${after ? ` AND id > $${next}::uuid` : ''} ORDER BY outbox.id LIMIT ${PG_PAGE}`,
    values,
    (row) => table.push(String(row[0]), Number(row[1])),
    onPage,
  );
}

/** Parcel rows (updated in the window, when it has a start), in id order: id, updatedAt (ms), version. */
export async function readParcelRows(client: Sql, window: VerifyWindow, table: IdTable, onPage?: (rows: number) => void): Promise<void> {
  const values: unknown[] = [];
  let where = 'TRUE';
  if (window.fromMs !== null) {
    values.push(window.fromMs);
    where = 'updated_at >= to_timestamp($1 / 1000.0)';
  }
  const next = values.length + 1;
  await scanById(
    client,
    (after) =>
      `SELECT id::text AS parcel_id, round(extract(epoch FROM updated_at) * 1000)::float8, version FROM parcel WHERE ${where}${after ? ` AND id > $${next}::uuid` : ''} ORDER BY parcel.id LIMIT ${PG_PAGE}`,
    values,
    (row) => table.push(String(row[0]), Number(row[1]), Number(row[2])),
    onPage,
  );
}

/** The ids of a table as strings, a chunk at a time (a million pending ids never exist as strings at once). */
function* idChunks(t: IdTable, keep: (id: string) => boolean = () => true): Generator<string[]> {
  let chunk: string[] = [];
  for (let row = 0; row < t.length; row++) {
    const id = t.id(row);
    if (keep(id)) chunk.push(id);
    if (chunk.length === LOOKUP_CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

/** The ids of `wanted` that have an outbox row now. */
export async function outboxHas(client: Sql, wanted: IdTable): Promise<IdTable> {
  const found = wanted.emptyLike();
  for (const chunk of idChunks(wanted, isUuid)) {
    for (const row of await arrays(client, 'SELECT id::text FROM outbox WHERE id = ANY($1::uuid[])', [chunk])) found.push(String(row[0]), Number.NaN);
  }
  return found;
}

/** The parcel rows of `wanted` now: id, updatedAt, version. */
export async function parcelRowsOf(client: Sql, wanted: IdTable): Promise<IdTable> {
  const found = new IdTable(wanted.codec, 1);
  const sql = 'SELECT id::text, round(extract(epoch FROM updated_at) * 1000)::float8, version FROM parcel WHERE id = ANY($1::uuid[])';
  for (const chunk of idChunks(wanted, isUuid)) {
    for (const row of await arrays(client, sql, [chunk])) found.push(String(row[0]), Number(row[1]), Number(row[2]));
  }
  return found;
}

/** What to read of an index: the field the pages are sorted by (its documents' id), the time field and an optional version. */
export interface IndexShape {
  idField: string;
  timeField: string;
  versionField?: string;
  /** The time range read ([gte, lte] in ms); absent bounds are open. */
  range?: { gte?: number; lte?: number };
}

type Search = Pick<SearchClient, 'search'>;

const isMissingIndex = (error: unknown) => (error as { code?: string }).code === 'SEARCH_NOT_FOUND';

/** A sort value as a number: Elasticsearch's sentinels for a missing value (±2^63) become NaN. */
function sortNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  return Math.abs(n) >= 2 ** 53 ? Number.NaN : n;
}

/**
 * Every document of an index in `shape.range`, paged in a stable order with search_after on its
 * keyword id field, which the sink's contract makes the document id (`_id` = eventId, = parcel
 * id); the sort values carry id, time and version, so neither _source nor stored fields are read. Then
 * the documents without that field or time, which a sort cannot page. Each goes to `onDocument` as it arrives. False when the index does
 * not exist. Without a point in time, a document written meanwhile may be missed: verify looks
 * up what is missing again before it judges.
 */
export async function readIndex(
  search: Search,
  index: string,
  shape: IndexShape,
  onDocument: (id: string, time: number, version: number) => void,
  onPage: (documents: number) => void = () => undefined,
): Promise<boolean> {
  const sort = [shape.idField, shape.timeField, ...(shape.versionField ? [shape.versionField] : [])].map((f) => ({ [f]: { order: 'asc' } }));
  const filter: Record<string, unknown>[] = [{ exists: { field: shape.idField } }, { exists: { field: shape.timeField } }];
  if (shape.range) filter.push({ range: { [shape.timeField]: { ...shape.range, format: 'epoch_millis' } } });
  let after: unknown[] | undefined;
  try {
    for (;;) {
      // No stored fields, not even _id: fetching them costs several times the search itself.
      const page = await search.search(index, {
        query: { bool: { filter } },
        sort,
        size: SEARCH_PAGE,
        _source: false,
        stored_fields: '_none_',
        ...(after ? { search_after: after } : {}),
      });
      for (const hit of page.hits) {
        const [id, time, version] = hit.sort ?? [];
        onDocument(String(id), sortNumber(time), shape.versionField ? versionOf(sortNumber(version)) : -1);
      }
      onPage(page.hits.length);
      if (page.hits.length < SEARCH_PAGE) break;
      after = page.hits.at(-1)!.sort;
    }
    const odd = {
      bool: { should: [{ bool: { must_not: { exists: { field: shape.idField } } } }, { bool: { must_not: { exists: { field: shape.timeField } } } }] },
    };
    const rest = await search.search<Record<string, unknown>>(index, {
      query: odd,
      size: SEARCH_PAGE,
      _source: shape.versionField ? [shape.versionField] : false,
    });
    for (const hit of rest.hits) onDocument(hit.id, Number.NaN, versionOf(Number(hit.source?.[shape.versionField ?? ''] ?? Number.NaN)));
    return true;
  } catch (error) {
    if (isMissingIndex(error)) return false;
    throw error;
  }
}

const versionOf = (n: number): number => (Number.isInteger(n) && n >= 0 && n < 2 ** 31 ? n : -1);

/** The documents of `wanted` that are searchable now: id, time, version. */
export async function indexHas(search: Search, index: string, wanted: IdTable, shape: IndexShape): Promise<IdTable> {
  const found = new IdTable(wanted.codec, 1);
  try {
    for (const chunk of idChunks(wanted)) {
      const fields = [shape.timeField, ...(shape.versionField ? [shape.versionField] : [])];
      const page = await search.search<Record<string, unknown>>(index, { query: { ids: { values: chunk } }, size: chunk.length, _source: fields });
      for (const hit of page.hits) {
        const time = hit.source?.[shape.timeField];
        const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN;
        found.push(hit.id, ms, versionOf(Number(hit.source?.[shape.versionField ?? ''] ?? Number.NaN)));
      }
    }
  } catch (error) {
    if (!isMissingIndex(error)) throw error;
  }
  return found;
}

/** What one record is to verify: its event id, key, event time (ms) and parcel version (-1: none). */
export interface DecodedRecord {
  eventId: string;
  key: string;
  timeMs: number;
  version: number;
}

/** Pure: the outbox event of a record, as verify compares it; undefined for a record that carries none. */
export function decodeRecord(record: KafkaRecord): DecodedRecord | undefined {
  const event = unwrapOutbox(record);
  if (!event) return undefined;
  const payload = event.payload as { parcel?: { version?: unknown } } | null;
  const version = payload?.parcel?.version;
  return {
    eventId: event.eventId,
    key: record.key?.toString('utf8') ?? event.aggregateId ?? '',
    timeMs: Date.parse(event.occurredAt),
    version: typeof version === 'number' && Number.isInteger(version) && version >= 0 && version < 2 ** 31 ? version : -1,
  };
}

/** Where a topic read stands: the next offset per partition, and what it saw. */
export interface TopicCursor {
  positions: Map<number, bigint>;
  /** Records in the window that carry no outbox event id. */
  unrecognized: number;
  /** The newest first-retained event time among partitions whose oldest records retention deleted (-Infinity: none did). */
  retainedFromMs: number;
}

/**
 * The start of a topic read: the window's start by timestamp (a little earlier, then filtered by
 * event time), else the oldest retained offset. The end: the high watermarks now.
 */
export async function openTopicCursor(admin: Pick<KafkaAdmin, 'watermarks' | 'offsetsForTime'>, topic: string, window: VerifyWindow) {
  const marks = await admin.watermarks(topic);
  const byTime = window.fromMs === null ? undefined : await admin.offsetsForTime(topic, window.fromMs - OFFSET_MARGIN_MS);
  const positions = new Map<number, bigint>();
  // A partition read from its low watermark after retention deleted records tells how far back the topic reaches.
  const retentionProbe = new Set<number>();
  for (const m of marks) {
    const at = byTime?.get(m.partition);
    // bigints: Math.min does not take them.
    let start = at === undefined || at < m.low ? m.low : at;
    if (start > m.high) start = m.high;
    positions.set(m.partition, start);
    if (start === m.low && m.low > 0n && m.high > m.low) retentionProbe.add(m.partition);
  }
  const cursor: TopicCursor = { positions, unrecognized: 0, retainedFromMs: -Infinity };
  return { cursor, retentionProbe };
}

/**
 * Reads records from the cursor up to the high watermarks now, appending each outbox event in
 * the window to `table` (columns TOPIC_VERSION, TOPIC_KEY); returns the rows added.
 */
export async function readTopic(
  reader: Pick<PartitionReader, 'batches'>,
  admin: Pick<KafkaAdmin, 'watermarks'>,
  topic: string,
  cursor: TopicCursor,
  window: VerifyWindow,
  table: IdTable,
  keys: KeyIndex,
  retentionProbe: Set<number> = new Set(),
  onBatch: (records: number) => void = () => undefined,
): Promise<{ from: number; to: number }> {
  const from = table.length;
  const until = new Map((await admin.watermarks(topic)).map((m) => [m.partition, m.high]));
  for await (const batch of reader.batches(cursor.positions, { until })) {
    for (const record of batch.records) {
      const event = decodeRecord(record);
      if (retentionProbe.delete(batch.partition) && event && !Number.isNaN(event.timeMs)) cursor.retainedFromMs = Math.max(cursor.retainedFromMs, event.timeMs);
      if (!event) {
        cursor.unrecognized++;
        continue;
      }
      if (event.timeMs > window.toMs || (window.fromMs !== null && event.timeMs < window.fromMs)) continue;
      const row = table.push(event.eventId, event.timeMs);
      table.ints[TOPIC_VERSION]![row] = event.version;
      table.ints[TOPIC_KEY]![row] = keys.intern(event.key, batch.partition);
    }
    onBatch(batch.records.length);
  }
  return { from, to: table.length };
}
