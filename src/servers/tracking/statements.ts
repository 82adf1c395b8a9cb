import type { Parcel } from './parcel.js';

/**
 * The create statements of POST /api/parcel. Each is one data-modifying CTE: the parcel, its
 * ParcelCreated outbox row and (with a key) the idempotency key go in one statement, so one
 * implicit transaction and one round trip; any failure leaves none of them. Named, so every
 * pooled connection parses and plans each once.
 */

/** node-postgres's named-statement query config. */
export interface NamedQuery {
  name: string;
  text: string;
  values: unknown[];
}

/** A timestamptz as Date#toISOString writes it: UTC, milliseconds truncated (as the driver's Date truncates). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The parcel as its JSON answer, from SQL expressions (the times already ISO text). */
const parcelJson = (id: string, contents: string, status: string, version: string, createdAt: string, updatedAt: string) =>
  `jsonb_build_object('id', ${id}, 'contents', ${contents}, 'status', ${status}, 'version', ${version}, 'createdAt', ${createdAt}, 'updatedAt', ${updatedAt})`;

// The parcel's columns as the answer has them: the times already in the JSON's form, so the
// answer, the outbox payload and a stored idempotent response are one value.
const RETURNING = `RETURNING id, contents, status, version, ${iso('created_at')} AS created_at, ${iso('updated_at')} AS updated_at`;

const EVENT_AND_ANSWER = `, e AS (
  INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, occurred_at)
  SELECT $3, 'parcel', p.id::text, 'ParcelCreated',
         jsonb_build_object('parcel', ${parcelJson('p.id', 'p.contents', 'p.status', 'p.version', 'p.created_at', 'p.updated_at')},
                            'changed', jsonb_build_array('contents', 'status')),
         now() AT TIME ZONE 'UTC'
  FROM p
)
SELECT id, contents, status, version, created_at, updated_at FROM p`;

const CREATE_TEXT = `WITH p AS (
  INSERT INTO parcel (id, contents, status, version, created_at, updated_at)
  VALUES ($1, $2, 'registered', 1, now(), now())
  ${RETURNING}
)${EVENT_AND_ANSWER}`;

// The key is claimed first: when it exists (or a concurrent request holding it commits), the
// claim returns no row, so no parcel and no event are written, and the caller reads the stored
// answer. The stored response is built from the same parameters and now() as the parcel row.
const CREATE_IDEMPOTENT_TEXT = `WITH k AS (
  INSERT INTO idempotency_key (key, request_hash, status_code, response, parcel_id)
  VALUES ($4, $5, 201, ${parcelJson('$1::uuid', '$2::text', "'registered'", '1', iso('now()'), iso('now()'))}, $1)
  ON CONFLICT (key) DO NOTHING
  RETURNING key
), p AS (
  INSERT INTO parcel (id, contents, status, version, created_at, updated_at)
  SELECT $1, $2, 'registered', 1, now(), now() FROM k
  ${RETURNING}
)${EVENT_AND_ANSWER}`;

/** The statement creating parcel `id` and event `eventId`; with a key, only if the key is new. */
export function createStatement(id: string, eventId: string, contents: string, idempotency?: { key: string; hash: string }): NamedQuery {
  return idempotency
    ? { name: 'tracking-create-idempotent', text: CREATE_IDEMPOTENT_TEXT, values: [id, contents, eventId, idempotency.key, idempotency.hash] }
    : { name: 'tracking-create', text: CREATE_TEXT, values: [id, contents, eventId] };
}

/** Delete-after-insert's second statement, in the transaction that inserted event `eventId`. */
export function deleteEventStatement(eventId: string): NamedQuery {
  return { name: 'tracking-outbox-delete', text: 'DELETE FROM outbox WHERE id = $1', values: [eventId] };
}

/** The stored answer of an idempotency key a create found taken. */
export function storedAnswerStatement(key: string): NamedQuery {
  return { name: 'tracking-idempotency-get', text: 'SELECT request_hash, status_code, response FROM idempotency_key WHERE key = $1', values: [key] };
}

/** A row of a create statement: the parcel, times already ISO strings. */
export interface CreatedRow {
  id: string;
  contents: string;
  status: Parcel['status'];
  version: number;
  created_at: string;
  updated_at: string;
}

export const createdParcel = (row: CreatedRow): Parcel => ({
  id: row.id,
  contents: row.contents,
  status: row.status,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
