import type { KafkaAdmin } from '../clients/kafka.js';
import type { PartitionReader } from '../clients/kafka-reader.js';
import type { PgClient } from '../clients/pg.js';
import type { SearchClient } from '../clients/search.js';
import { describeGroupLag } from '../groups/lag.js';
import { createLogger } from '../lib/logger.js';
import { unwrapOutbox } from '../tail/outbox.js';

const log = createLogger('lag');

/** How far behind each hop of the pipeline is; null where it cannot be told (no slot, no group, unreachable). */
export interface PipelineLag {
  /** WAL bytes the Debezium slot has not confirmed: pg_current_wal_lsn() − confirmed_flush_lsn. */
  slotBytes: number | null;
  /** Records on the topic the sink's consumer group has not committed. */
  sinkRecords: number | null;
  /** Events on the topic with no searchable document in the events index yet. */
  notSearchable: number | null;
}

export interface LagSources {
  /** The database and the Debezium slot's name (null: the only logical slot of the database, if it has exactly one). */
  database?: { client: Pick<PgClient, 'query'>; slot: string | null };
  /** The sink's consumer group on the topic. */
  sink?: { admin: Pick<KafkaAdmin, 'describeGroup' | 'committedOffsets' | 'watermarks'>; group: string; topic: string };
  /** What the events index can search; used for notSearchable unless `notSearchable` is given. */
  search?: {
    client: Pick<SearchClient, 'count'>;
    index: string;
    reader: Pick<PartitionReader, 'batches'>;
    admin: Pick<KafkaAdmin, 'watermarks'>;
    topic: string;
  };
  /** Already counted by the caller (verify counts it exactly): taken as it is. */
  notSearchable?: number | null;
}

/** Runs one measurement; a failure makes it unknown (null), never the caller's error. */
async function orNull<T>(what: string, fn: () => Promise<T | null>): Promise<T | null> {
  try {
    return await fn();
  } catch (error) {
    log('%s unknown: %s', what, (error as Error).message);
    return null;
  }
}

/** The logical slot to measure: the one named, else the database's only logical slot. */
export async function debeziumSlot(client: Pick<PgClient, 'query'>, slot: string | null): Promise<string | null> {
  if (slot) return slot;
  const { rows } = await client.query<{ slot_name: string }>(
    "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database() ORDER BY slot_name",
  );
  return rows.length === 1 ? rows[0]!.slot_name : null;
}

/** WAL bytes between the server's current position and what the slot's consumer confirmed; null without that slot. */
export async function slotLagBytes(client: Pick<PgClient, 'query'>, slot: string | null): Promise<number | null> {
  const name = await debeziumSlot(client, slot);
  if (!name) return null;
  const { rows } = await client.query<{ bytes: number | null }>(
    'SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::float8 AS bytes FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  );
  const bytes = rows[0]?.bytes;
  return bytes === undefined || bytes === null ? null : Math.max(0, Number(bytes));
}

/** Records of `topic` the group has not committed (the lag `group describe` shows); null for a group that does not exist. */
export async function sinkLagRecords(admin: LagSources['sink'] & object): Promise<number | null> {
  try {
    const report = await describeGroupLag(admin.admin, admin.group);
    const offsets = report.offsets.filter((o) => o.topic === admin.topic);
    return offsets.length ? offsets.reduce((sum, o) => sum + o.lag, 0) : null;
  } catch (error) {
    if ((error as { code?: string }).code === 'GROUP_MISSING') return null;
    throw error;
  }
}

/**
 * An estimate without reading the whole topic: per partition, the records after the last one
 * whose event is searchable, found by bisection over offsets (the sink indexes in offset order,
 * so searchable records come first). A record without an event id counts as searchable.
 */
export async function tailNotSearchable(source: LagSources['search'] & object): Promise<number> {
  let total = 0;
  for (const { partition, low, high } of await source.admin.watermarks(source.topic)) {
    if (high <= low) continue;
    const searchable = async (offset: bigint): Promise<boolean> => {
      for await (const batch of source.reader.batches(new Map([[partition, offset]]), { until: new Map([[partition, offset + 1n]]) })) {
        const record = batch.records.find((r) => BigInt(r.offset) >= offset);
        if (!record) continue;
        const event = unwrapOutbox(record);
        return !event || (await source.client.count(source.index, { ids: { values: [event.eventId] } }).catch(() => 0)) > 0;
      }
      return true;
    };
    if (await searchable(high - 1n)) continue;
    let lo = low;
    let hi = high - 1n;
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      if (await searchable(mid)) lo = mid + 1n;
      else hi = mid;
    }
    total += Number(high - lo);
  }
  return total;
}

/**
 * The lag of each hop — replication slot, sink consumer group, searchability — each measured on
 * its own, null where its source is absent or does not answer. For `verify`, a dashboard and
 * `status --watch` alike.
 */
export async function pipelineLag(sources: LagSources): Promise<PipelineLag> {
  const { database, sink, search } = sources;
  const [slotBytes, sinkRecords, notSearchable] = await Promise.all([
    database ? orNull('slotBytes', () => slotLagBytes(database.client, database.slot)) : null,
    sink ? orNull('sinkRecords', () => sinkLagRecords(sink)) : null,
    sources.notSearchable !== undefined ? sources.notSearchable : search ? orNull('notSearchable', () => tailNotSearchable(search)) : null,
  ]);
  return { slotBytes, sinkRecords, notSearchable };
}
