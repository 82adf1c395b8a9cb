import { createHash, randomUUID } from 'node:crypto';
import type { PgPool, PgPoolClient } from '../../clients/pg.js';
import { type Cursor, changedFields, type EventType, encodeCursor, type Parcel, type UpdateParcel } from './parcel.js';
import { type CreatedRow, createdParcel, createStatement, deleteEventStatement, storedAnswerStatement } from './statements.js';

interface ParcelRow {
  id: string;
  contents: string;
  status: Parcel['status'];
  version: number;
  created_at: Date;
  updated_at: Date;
  cursor_at: string;
}

const COLUMNS = `id, contents, status, version, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

function toParcel(row: ParcelRow): Parcel {
  return {
    id: row.id,
    contents: row.contents,
    status: row.status,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type CreateResult = { kind: 'created'; parcel: Parcel } | { kind: 'replayed'; statusCode: number; body: unknown } | { kind: 'key-reused' };

export type UpdateResult =
  | { kind: 'updated'; parcel: Parcel; changed: string[] }
  | { kind: 'unchanged'; parcel: Parcel }
  | { kind: 'not-found' }
  | { kind: 'precondition-failed'; current: Parcel };

export interface RepositoryOptions {
  /** Delete each outbox row right after inserting it (same transaction): the table stays empty, the WAL still has the insert. */
  outboxDeleteAfterInsert?: boolean;
}

/** The hash an idempotency key is bound to: the request body, canonically serialized. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/**
 * Parcels and their outbox events. Every write of a parcel and its event happens in one
 * transaction; an update that changes nothing writes nothing.
 */
export class ParcelRepository {
  constructor(
    private readonly pool: PgPool,
    private readonly options: RepositoryOptions = {},
  ) {}

  private async transaction<T>(fn: (client: PgPoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async writeEvent(client: PgPoolClient, type: EventType, parcel: Parcel, changed: string[]): Promise<void> {
    const eventId = randomUUID();
    await client.query({
      name: 'tracking-outbox-insert',
      text: `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, occurred_at)
       VALUES ($1, 'parcel', $2, $3, $4, now() AT TIME ZONE 'UTC')`,
      values: [eventId, parcel.id, type, JSON.stringify({ parcel, changed })],
    });
    if (this.options.outboxDeleteAfterInsert) await client.query(deleteEventStatement(eventId));
  }

  /**
   * Creates a parcel and its ParcelCreated event in one statement (one round trip, one implicit
   * transaction). With an idempotency key, the key and the response are stored by the same
   * statement; a concurrent request with the same key waits on the key's row and then replays
   * the stored response.
   */
  async create(contents: string, idempotency?: { key: string; hash: string }): Promise<CreateResult> {
    if (this.options.outboxDeleteAfterInsert) return this.transaction((client) => this.createIn(client, contents, idempotency, true));
    return this.createIn(this.pool, contents, idempotency, false);
  }

  private async createIn(
    db: PgPool | PgPoolClient,
    contents: string,
    idempotency: { key: string; hash: string } | undefined,
    deleteEvent: boolean,
  ): Promise<CreateResult> {
    // A key deleted between the claim and the read (its parcel gone) is claimed again.
    for (let attempt = 0; ; attempt++) {
      const eventId = randomUUID();
      const { rows } = await db.query<CreatedRow>(createStatement(randomUUID(), eventId, contents, idempotency));
      if (rows[0]) {
        if (deleteEvent) await db.query(deleteEventStatement(eventId));
        return { kind: 'created', parcel: createdParcel(rows[0]) };
      }
      const stored = (await db.query<{ request_hash: string; status_code: number; response: unknown }>(storedAnswerStatement(idempotency!.key))).rows[0];
      if (stored) {
        if (stored.request_hash !== idempotency!.hash) return { kind: 'key-reused' };
        return { kind: 'replayed', statusCode: stored.status_code, body: stored.response };
      }
      if (attempt >= 2) throw new Error(`Idempotency-Key ${idempotency!.key} was taken but its answer was gone ${attempt + 1} times; send the request again.`);
    }
  }

  /** Applies an update under a row lock; `ifMatch` is the version the client last saw. */
  async update(id: string, update: UpdateParcel, ifMatch?: number | 'any'): Promise<UpdateResult> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<ParcelRow>(`SELECT ${COLUMNS} FROM parcel WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) return { kind: 'not-found' };
      const current = toParcel(row);
      if (typeof ifMatch === 'number' && ifMatch !== current.version) return { kind: 'precondition-failed', current };
      const changed = changedFields(current, update);
      if (changed.length === 0) return { kind: 'unchanged', parcel: current };
      const updated = await client.query<ParcelRow>(
        `UPDATE parcel SET contents = $2, status = $3, version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, update.contents ?? current.contents, update.status ?? current.status],
      );
      const parcel = toParcel(updated.rows[0]!);
      await this.writeEvent(client, 'ParcelUpdated', parcel, changed);
      return { kind: 'updated', parcel, changed };
    });
  }

  async get(id: string): Promise<Parcel | undefined> {
    const { rows } = await this.pool.query<ParcelRow>(`SELECT ${COLUMNS} FROM parcel WHERE id = $1`, [id]);
    return rows[0] ? toParcel(rows[0]) : undefined;
  }

  /** Newest first; the cursor is the last row's exact (created_at, id). */
  async list(limit: number, cursor?: Cursor): Promise<{ items: Parcel[]; nextCursor: string | null }> {
    const { rows } = cursor
      ? await this.pool.query<ParcelRow>(
          `SELECT ${COLUMNS} FROM parcel WHERE (created_at, id) < ($1::timestamptz, $2::uuid)
           ORDER BY created_at DESC, id DESC LIMIT $3`,
          [cursor.createdAt, cursor.id, limit + 1],
        )
      : await this.pool.query<ParcelRow>(`SELECT ${COLUMNS} FROM parcel ORDER BY created_at DESC, id DESC LIMIT $1`, [limit + 1]);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.cursor_at, id: last.id }) : null;
    return { items: page.map(toParcel), nextCursor };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
