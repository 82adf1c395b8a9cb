import { KafkaAdmin } from '../clients/kafka.js';
import { PartitionReader } from '../clients/kafka-reader.js';
import { type PgClient, withPg } from '../clients/pg.js';
import { SearchClient } from '../clients/search.js';
import { type Clock, systemClock } from '../lib/clock.js';
import {
  analyzeTopic,
  type Coverage,
  compareParcels,
  diffTables,
  EventsMatcher,
  outboxCovers,
  type ParcelDiff,
  ParcelMatcher,
  sample,
  staleSample,
  union,
  without,
} from './compare.js';
import { IdCodec, IdTable, KeyIndex } from './ids.js';
import { pipelineLag } from './lag.js';
import { Collector, logMemory } from './memory.js';
import {
  type IndexShape,
  indexHas,
  openTopicCursor,
  outboxHas,
  outboxSummary,
  parcelRowsOf,
  readIndex,
  readOutbox,
  readParcelRows,
  readTopic,
  type TopicCursor,
} from './readers.js';
import { notesOf, problemsOf, type VerifyReport, type VerifyStages } from './report.js';
import type { VerifyTargets } from './targets.js';
import type { VerifyWindow } from './window.js';

export interface VerifyOptions {
  targets: VerifyTargets;
  window: VerifyWindow;
  /** How long to wait for in-flight events before judging (0: judge the first pass). */
  settleMs: number;
  clock?: Clock;
  progress?: (message: string) => void;
}

/** Pause between look-ups while settling: short at first (a refresh interval), then a second. */
const RECHECK_MS = [250, 500, 1_000];

const EVENTS_SHAPE = (window: VerifyWindow): IndexShape => ({
  idField: 'eventId',
  timeField: 'occurredAt',
  range: { lte: window.toMs, ...(window.fromMs === null ? {} : { gte: window.fromMs }) },
});
const PARCELS_SHAPE = (window: VerifyWindow): IndexShape => ({
  idField: 'id',
  timeField: 'updatedAt',
  versionField: 'version',
  range: window.fromMs === null ? undefined : { gte: window.fromMs },
});

const iso = (ms: number | null): string | null => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

/** What the first pass keeps (outbox rows and records; documents are matched as they arrive), and what is still wrong. */
interface Reconciliation extends Coverage {
  outbox: IdTable;
  topic: IdTable;
  keys: KeyIndex;
  cursor: TopicCursor;
  /** The first pass's documents, as marks: whether an id was indexed. */
  events: EventsMatcher;
  documents: number;
  parcelRows: number;
  parcelDocuments: number;
  projected: boolean;
  pending: Pending;
}

/** What is still wrong; each table shrinks as look-ups find what was in flight. */
interface Pending {
  topicMissing: IdTable;
  topicExtra: IdTable;
  eventsMissing: IdTable;
  eventsExtra: IdTable;
  parcels: ParcelDiff;
}

const parcelsPending = (d: ParcelDiff): number => d.missing.length + d.stale.length + d.extra.length;
const pendingCount = (p: Pending): number =>
  p.topicMissing.length + p.topicExtra.length + p.eventsMissing.length + p.eventsExtra.length + parcelsPending(p.parcels);

class Verifier {
  private readonly codec = new IdCodec();
  private readonly collector = new Collector();
  private readonly clock: Clock;
  private readonly progress: (message: string) => void;

  constructor(
    private readonly options: VerifyOptions,
    private readonly pg: PgClient,
    private readonly admin: KafkaAdmin,
    private readonly reader: PartitionReader,
    private readonly search: SearchClient,
  ) {
    this.clock = options.clock ?? systemClock;
    this.progress = options.progress ?? (() => undefined);
  }

  private get window(): VerifyWindow {
    return this.options.window;
  }

  private get targets(): VerifyTargets {
    return this.options.targets;
  }

  /** The parcel table, then the parcels index matched against it page by page; only the findings are kept. */
  private async parcelsPass(): Promise<{ rows: number; documents: number; projected: boolean; diff: ParcelDiff }> {
    this.progress(`reading the parcel table and the index ${this.targets.parcelsIndex}`);
    const rows = new IdTable(this.codec, 1);
    await readParcelRows(this.pg, this.window, rows, (n) => this.collector.read(n));
    const matcher = new ParcelMatcher(rows);
    const projected = await readIndex(
      this.search,
      this.targets.parcelsIndex,
      PARCELS_SHAPE(this.window),
      (id, time, version) => matcher.add(id, time, version),
      (n) => this.collector.read(n),
    );
    let diff = projected ? matcher.result() : new ParcelMatcher(rows.emptyLike()).result();
    // In a window, a parcel updated before it has its row or its document outside what was read: look the other up.
    let documents = matcher.documents;
    if (projected && this.window.fromMs !== null) ({ diff, found: documents } = await this.recheckParcels(diff, documents));
    logMemory('parcels compared');
    return { rows: rows.length, documents, projected, diff };
  }

  /**
   * Reads every store once: the parcels, then upstream first (outbox, topic, events index), so
   * what is in flight shows as missing rather than extra.
   */
  async firstPass(): Promise<Reconciliation> {
    const { topic: topicName, eventsIndex } = this.targets;
    const parcels = await this.parcelsPass();

    const summary = await outboxSummary(this.pg);
    const marks = await this.admin.watermarks(topicName);
    const onTopic = marks.reduce((n, m) => n + Number(m.high - m.low), 0);
    // Rows deleted after insert (or all pruned) leave an empty outbox behind a topic with records.
    const kept = summary.rows > 0 || onTopic === 0;
    const outbox = new IdTable(this.codec, 0, kept ? summary.rows : 0);
    if (kept) {
      this.progress(`reading the outbox (${summary.rows} rows)`);
      await readOutbox(this.pg, this.window, outbox, (n) => this.collector.read(n));
    }
    logMemory('outbox read');

    const { cursor, retentionProbe } = await openTopicCursor(this.admin, topicName, this.window);
    const toRead = marks.reduce((n, m) => n + Number(m.high - (cursor.positions.get(m.partition) ?? m.low)), 0);
    this.progress(`reading ${topicName} (${toRead} records)`);
    const topic = new IdTable(this.codec, 2, Math.min(toRead, 4_000_000));
    const keys = new KeyIndex(this.codec, Math.min(toRead, 65_536));
    await readTopic(this.reader, this.admin, topicName, cursor, this.window, topic, keys, retentionProbe, (n) => this.collector.read(n));
    logMemory('topic read');

    let newestMs = summary.newestMs ?? Infinity;
    for (let row = 0; row < outbox.length; row++) newestMs = Math.max(newestMs, outbox.time[row]!);
    const coverage: Coverage = {
      kept,
      outboxFromMs: kept ? (summary.oldestMs ?? -Infinity) : Infinity,
      outboxToMs: kept ? newestMs : -Infinity,
      topicFromMs: cursor.retainedFromMs,
    };
    // TimeRange ends are exclusive: the newest row's own time is covered.
    const onOutbox = kept
      ? diffTables(outbox, topic, { from: coverage.topicFromMs, to: Infinity }, { from: coverage.outboxFromMs, to: coverage.outboxToMs + 1 })
      : { missing: outbox.emptyLike(), extra: topic.emptyLike() };
    this.progress(`reading the index ${eventsIndex}`);
    const events = new EventsMatcher(outbox, topic, coverage);
    await readIndex(
      this.search,
      eventsIndex,
      EVENTS_SHAPE(this.window),
      (id, time) => events.add(id, time),
      (n) => this.collector.read(n),
    );
    const eventsFound = events.result();
    logMemory('events compared');
    return {
      ...coverage,
      outbox,
      topic,
      keys,
      cursor,
      events,
      documents: events.documents,
      parcelRows: parcels.rows,
      parcelDocuments: parcels.documents,
      projected: parcels.projected,
      pending: {
        topicMissing: onOutbox.missing,
        topicExtra: onOutbox.extra,
        eventsMissing: eventsFound.missing,
        eventsExtra: eventsFound.extra,
        parcels: parcels.diff,
      },
    };
  }

  /** Looks up the rows and documents of what is pending; `documents` grows by those found for parcels that had none. */
  private async recheckParcels(diff: ParcelDiff, documents: number): Promise<{ diff: ParcelDiff; found: number }> {
    const ids = union(diff.missing, diff.stale, diff.extra);
    if (ids.length === 0) return { diff, found: documents };
    const rows = await parcelRowsOf(this.pg, ids);
    const docs = await indexHas(this.search, this.targets.parcelsIndex, ids, PARCELS_SHAPE(this.window));
    let found = documents;
    for (let row = 0; row < docs.length; row++) if (diff.missing.find(docs, row) >= 0) found++;
    return { diff: compareParcels(rows, docs), found };
  }

  /**
   * One round of settling: the records that reached the topic since, then a look-up of only what
   * is still missing or extra (never a second full read).
   */
  async recheck(r: Reconciliation): Promise<void> {
    const p = r.pending;
    const added = await readTopic(this.reader, this.admin, this.targets.topic, r.cursor, this.window, r.topic, r.keys);
    const arrived = r.topic.emptyLike();
    const unsourced = r.topic.emptyLike();
    const sourced = r.topic.emptyLike();
    const unindexed = r.topic.emptyLike();
    for (let row = added.from; row < added.to; row++) {
      const t = r.topic.time[row]!;
      if (p.topicMissing.find(r.topic, row) >= 0) arrived.pushRow(r.topic, row);
      else if (outboxCovers(r, t) && r.outbox.find(r.topic, row) < 0) unsourced.pushRow(r.topic, row);
      // Outside the outbox's rows (or without any), the topic is the event's source of truth.
      // Whether a document came since is left to the look-up below.
      if (!outboxCovers(r, t)) {
        if (p.eventsExtra.find(r.topic, row) >= 0) sourced.pushRow(r.topic, row);
        else if (!r.events.indexed(r.topic, row)) unindexed.pushRow(r.topic, row);
      }
    }
    p.topicMissing = without(p.topicMissing, arrived);
    if (unsourced.length) p.topicExtra = union(p.topicExtra, unsourced);
    p.eventsExtra = without(p.eventsExtra, sourced);
    if (unindexed.length) p.eventsMissing = union(p.eventsMissing, unindexed);

    if (r.kept && p.topicExtra.length) {
      const found = await outboxHas(this.pg, p.topicExtra);
      p.topicExtra = without(p.topicExtra, found);
      // A row committed after the outbox was read is an event like any other: it needs its document (looked up below).
      const unindexedRows = found.emptyLike();
      for (let row = 0; row < found.length; row++) if (!r.events.indexed(found, row)) unindexedRows.pushRow(found, row);
      if (unindexedRows.length) p.eventsMissing = union(p.eventsMissing, unindexedRows);
    }
    if (r.kept && p.eventsExtra.length) p.eventsExtra = without(p.eventsExtra, await outboxHas(this.pg, p.eventsExtra));
    if (p.eventsMissing.length) {
      const found = await indexHas(this.search, this.targets.eventsIndex, p.eventsMissing, EVENTS_SHAPE(this.window));
      p.eventsMissing = without(p.eventsMissing, found);
      r.documents += found.length;
    }
    if (r.projected && parcelsPending(p.parcels)) ({ diff: p.parcels, found: r.parcelDocuments } = await this.recheckParcels(p.parcels, r.parcelDocuments));
  }

  /** Re-checks until nothing is pending or the settle time is up; returns how long it waited. */
  async settle(r: Reconciliation): Promise<number> {
    if (pendingCount(r.pending) === 0 || this.options.settleMs <= 0) return 0;
    const start = this.clock.now();
    const deadline = start + this.options.settleMs;
    for (let round = 0; pendingCount(r.pending) > 0; round++) {
      const left = deadline - this.clock.now();
      if (left <= 0) break;
      if (round === 0) this.progress(`waiting up to ${Math.round(left / 1000)}s for ${pendingCount(r.pending)} in-flight ids`);
      await this.clock.sleep(Math.min(RECHECK_MS[Math.min(round, RECHECK_MS.length - 1)]!, left));
      await this.recheck(r);
    }
    return this.clock.now() - start;
  }

  async report(r: Reconciliation, settledMs: number): Promise<VerifyReport> {
    logMemory('compared');
    const analysis = analyzeTopic(r.topic, r.keys);
    logMemory('topic analysed');
    const p = r.pending;
    let onTopicNotIndexed = 0;
    for (let row = 0; row < p.eventsMissing.length; row++) if (r.topic.find(p.eventsMissing, row) >= 0) onTopicNotIndexed++;
    let older = 0;
    let newer = 0;
    if (r.kept) {
      for (let row = 0; row < r.topic.length; row++) {
        const t = r.topic.time[row]!;
        if (t < r.outboxFromMs) older++;
        else if (t > r.outboxToMs) newer++;
      }
    }
    const { topic, eventsIndex, parcelsIndex } = this.targets;
    const stages: VerifyStages = {
      outbox: {
        kept: r.kept,
        rows: r.outbox.length,
        table: 'outbox',
        oldest: r.kept ? iso(r.outboxFromMs) : null,
        newest: r.kept ? iso(r.outboxToMs) : null,
        prunedBefore: older ? iso(r.outboxFromMs) : null,
        newerOnTopic: newer,
      },
      topic: {
        topic,
        records: analysis.records,
        distinct: analysis.distinct,
        repeated: analysis.repeated,
        missing: sample(p.topicMissing),
        extra: sample(p.topicExtra),
        orderViolations: analysis.orderViolations,
        unrecognized: r.cursor.unrecognized,
        retainedFrom: iso(r.topicFromMs),
      },
      events: {
        index: eventsIndex,
        source: r.kept ? 'outbox' : 'topic',
        documents: r.documents,
        missing: sample(p.eventsMissing),
        extra: sample(p.eventsExtra),
      },
      parcels: {
        index: parcelsIndex,
        projected: r.projected,
        rows: r.parcelRows,
        documents: r.parcelDocuments,
        missing: sample(p.parcels.missing),
        stale: staleSample(p.parcels.stale),
        extra: sample(p.parcels.extra),
      },
    };
    const lag = await pipelineLag({
      database: { client: this.pg, slot: this.targets.slot },
      sink: { admin: this.admin, group: this.targets.group, topic },
      notSearchable: onTopicNotIndexed,
    });
    const problems = problemsOf(stages);
    return {
      consistent: problems.length === 0,
      window: { from: iso(this.window.fromMs), to: new Date(this.window.toMs).toISOString() },
      settledMs,
      stages,
      lag,
      problems,
      notes: notesOf(stages),
    };
  }
}

/**
 * `outboxctl verify`: reconciles outbox rows, records on the topic and documents in the events
 * index by event id, and the parcels index against the parcel table; waits up to `settleMs` for
 * what is in flight, re-checking only that, then judges.
 */
export async function verifyPipeline(options: VerifyOptions): Promise<VerifyReport> {
  const { targets } = options;
  return withPg(
    targets.databaseUrl,
    async (pg) => {
      const admin = await KafkaAdmin.connect(targets.kafka);
      let reader: PartitionReader | undefined;
      let search: SearchClient | undefined;
      try {
        await admin.requireTopic(targets.topic);
        reader = await PartitionReader.open(targets.kafka, targets.topic);
        search = await SearchClient.connect(targets.elasticsearch, { deadlineMs: 15_000 });
        const verifier = new Verifier(options, pg, admin, reader, search);
        const r = await verifier.firstPass();
        const settledMs = await verifier.settle(r);
        return await verifier.report(r, settledMs);
      } finally {
        await search?.close().catch(() => undefined);
        await reader?.close();
        await admin.close().catch(() => undefined);
      }
    },
    { applicationName: 'outboxctl-verify' },
  );
}
