import { compareIds, IdTable, type KeyIndex } from './ids.js';

/** Event times (ms) a comparison judges: [from, to). A row without a time (NaN) is always judged. */
export interface TimeRange {
  from: number;
  to: number;
}

export const ALL_TIME: TimeRange = { from: -Infinity, to: Infinity };

const inRange = (t: number, r: TimeRange): boolean => Number.isNaN(t) || (t >= r.from && t < r.to);

/** The position after the run of rows (in id order) that share the id at position `k`. */
function endOfRun(t: IdTable, k: number): number {
  const row = t.rowAt(k);
  let next = k + 1;
  while (next < t.length && compareIds(t.words, t.rowAt(next), t.words, row) === 0) next++;
  return next;
}

/**
 * Pure: a merge of two id-sorted tables. `missing`: ids of `a` (its first row judged by
 * `aRange`) that `b` does not hold at all; `extra`: ids of `b` (judged by `bRange`) that `a`
 * does not hold. Each id once, however often it repeats; rows keep their columns.
 */
export function diffTables(a: IdTable, b: IdTable, aRange: TimeRange = ALL_TIME, bRange: TimeRange = ALL_TIME): { missing: IdTable; extra: IdTable } {
  a.sort();
  b.sort();
  const missing = a.emptyLike();
  const extra = b.emptyLike();
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = j >= b.length ? -1 : i >= a.length ? 1 : compareIds(a.words, a.rowAt(i), b.words, b.rowAt(j));
    if (c < 0) {
      const row = a.rowAt(i);
      if (inRange(a.time[row]!, aRange)) missing.pushRow(a, row);
      i = endOfRun(a, i);
    } else if (c > 0) {
      const row = b.rowAt(j);
      if (inRange(b.time[row]!, bRange)) extra.pushRow(b, row);
      j = endOfRun(b, j);
    } else {
      i = endOfRun(a, i);
      j = endOfRun(b, j);
    }
  }
  return { missing, extra };
}

/** Pure: the rows of `t` whose id `found` does not hold (what is still pending after a look-up). */
export function without(t: IdTable, found: IdTable): IdTable {
  if (found.length === 0) return t;
  const rest = t.emptyLike(t.length);
  for (let row = 0; row < t.length; row++) if (found.find(t, row) < 0) rest.pushRow(t, row);
  return rest;
}

/** Pure: every id of the tables once (the first row of each, in id order), with the first table's columns. */
export function union(first: IdTable, ...rest: IdTable[]): IdTable {
  const all = first.emptyLike(first.length + rest.reduce((n, t) => n + t.length, 0));
  for (const t of [first, ...rest]) for (let row = 0; row < t.length; row++) all.pushRow(t, row);
  all.sort();
  const distinct = first.emptyLike(all.length);
  for (let k = 0; k < all.length; k = endOfRun(all, k)) distinct.pushRow(all, all.rowAt(k));
  return distinct;
}

export interface IdSample {
  count: number;
  /** The earliest ones by event time (then by id), at most `SAMPLE`. */
  first: string[];
}

/** How many ids a report names per finding. */
export const SAMPLE = 20;

/** Pure: the rows of `t` with the earliest times (rows without a time last), at most `n`. */
export function earliestRows(t: IdTable, n = SAMPLE): number[] {
  const key = (row: number) => (Number.isNaN(t.time[row]!) ? Infinity : t.time[row]!);
  const before = (x: number, y: number) => key(x) < key(y) || (key(x) === key(y) && compareIds(t.words, x, t.words, y) < 0);
  const best: number[] = [];
  for (let row = 0; row < t.length; row++) {
    if (best.length === n && !before(row, best[n - 1]!)) continue;
    let at = best.length === n ? n - 1 : best.length;
    best[at] = row;
    while (at > 0 && before(best[at]!, best[at - 1]!)) {
      [best[at - 1], best[at]] = [best[at]!, best[at - 1]!];
      at--;
    }
  }
  return best;
}

/** Pure: a table as the report names it: how many, and the earliest ids. */
export function sample(t: IdTable, n = SAMPLE): IdSample {
  return { count: t.length, first: earliestRows(t, n).map((row) => t.id(row)) };
}

export interface OrderViolation {
  /** The record key (the aggregate id). */
  key: string;
  eventId: string;
  version: number;
  /** The highest version read before it on the same key. */
  after: number;
}

export interface TopicAnalysis {
  records: number;
  distinct: number;
  repeated: number;
  orderViolations: { count: number; first: OrderViolation[] };
}

/** Columns of the topic table: the parcel version (-1: none) and the number of (key, partition). */
export const TOPIC_VERSION = 0;
export const TOPIC_KEY = 1;

/**
 * Pure: repeats and per-key order of the records of a topic, read in offset order per partition.
 * A repeat is a record whose event id came earlier (a redelivery under at-least-once); repeats are
 * left out before the order check, which flags a version lower than one before it on its key.
 */
export function analyzeTopic(t: IdTable, keys: KeyIndex, n = SAMPLE): TopicAnalysis {
  t.sort();
  const repeat = new Uint8Array(t.length);
  let repeated = 0;
  for (let k = 0; k < t.length; ) {
    const end = endOfRun(t, k);
    // Ties are in read order: the first row of a run is the first delivery.
    for (let m = k + 1; m < end; m++) repeat[t.rowAt(m)] = 1;
    repeated += end - k - 1;
    k = end;
  }
  const highest = new Int32Array(keys.size).fill(-1);
  const versions = t.ints[TOPIC_VERSION]!;
  const keyOf = t.ints[TOPIC_KEY]!;
  const first: OrderViolation[] = [];
  let count = 0;
  for (let row = 0; row < t.length; row++) {
    const version = versions[row]!;
    const key = keyOf[row]!;
    if (repeat[row] || version < 0 || key < 0) continue;
    if (version < highest[key]!) {
      count++;
      if (first.length < n) first.push({ key: keys.key(key), eventId: t.id(row), version, after: highest[key]! });
    } else highest[key] = version;
  }
  return { records: t.length, distinct: t.length - repeated, repeated, orderViolations: { count, first } };
}

/** Column of a parcel table (rows or documents): the version. */
export const PARCEL_VERSION = 0;
/** Columns of the stale table: the document's version and the row's. */
export const STALE_VERSION = 0;
export const STALE_EXPECTED = 1;

export interface ParcelDiff {
  missing: IdTable;
  /** Documents at another version than their row: columns STALE_VERSION, STALE_EXPECTED. */
  stale: IdTable;
  extra: IdTable;
}

/**
 * Pure: documents of the parcels index, one at a time as the pages arrive, against the parcel
 * rows (each parcel at its latest version); no table of documents is kept.
 */
export class ParcelMatcher {
  documents = 0;
  private readonly probe: IdTable;
  private readonly seen: Uint8Array;
  private readonly stale: IdTable;
  private readonly extra: IdTable;

  constructor(private readonly rows: IdTable) {
    rows.sort();
    this.probe = new IdTable(rows.codec, 1, 1);
    this.seen = new Uint8Array(rows.length);
    this.stale = new IdTable(rows.codec, 2);
    this.extra = new IdTable(rows.codec, 1);
  }

  add(id: string, time: number, version: number): void {
    this.documents++;
    this.probe.clear();
    this.probe.push(id, time, version);
    const row = this.rows.find(this.probe, 0);
    if (row < 0) {
      this.extra.pushRow(this.probe, 0);
      return;
    }
    if (this.seen[row]) return;
    this.seen[row] = 1;
    const expected = this.rows.ints[PARCEL_VERSION]![row]!;
    if (version !== expected) this.stale.pushRow(this.rows, row, version, expected);
  }

  result(): ParcelDiff {
    const missing = this.rows.emptyLike();
    for (let k = 0; k < this.rows.length; k++) {
      const row = this.rows.rowAt(k);
      if (!this.seen[row]) missing.pushRow(this.rows, row);
    }
    return { missing, stale: this.stale, extra: union(this.extra) };
  }
}

/** Pure: each parcel row against its document in the projection (each parcel at its latest version). */
export function compareParcels(rows: IdTable, docs: IdTable): ParcelDiff {
  const matcher = new ParcelMatcher(rows);
  for (let row = 0; row < docs.length; row++) matcher.add(docs.id(row), docs.time[row]!, docs.ints[PARCEL_VERSION]![row]!);
  return matcher.result();
}

/**
 * Which event times each source covers: the outbox from its oldest to its newest row (rows
 * pruned before, deleted after insert since), nothing when it keeps none; the topic from
 * `topicFromMs` (-∞: all it ever had).
 */
export interface Coverage {
  kept: boolean;
  outboxFromMs: number;
  outboxToMs: number;
  topicFromMs: number;
}

/** Pure: whether an event of time `t` is judged against the outbox (else against the topic). */
export const outboxCovers = (c: Coverage, t: number): boolean => c.kept && t >= c.outboxFromMs && t <= c.outboxToMs;

/**
 * Pure: documents of the events index, one at a time as the pages arrive, against their source —
 * outbox rows where the outbox covers the event time, records on the topic elsewhere (everywhere
 * when the outbox keeps no rows). Only marks are kept, no table of documents.
 */
export class EventsMatcher {
  documents = 0;
  private readonly probe: IdTable;
  private readonly outboxIndexed: Uint8Array;
  private readonly topicIndexed: Uint8Array;
  private readonly extra: IdTable;

  constructor(
    private readonly outbox: IdTable,
    private readonly topic: IdTable,
    private readonly coverage: Coverage,
  ) {
    outbox.sort();
    topic.sort();
    this.probe = new IdTable(outbox.codec, 0, 1);
    this.outboxIndexed = new Uint8Array(outbox.length);
    this.topicIndexed = new Uint8Array(topic.length);
    this.extra = new IdTable(outbox.codec, 0);
  }

  add(id: string, time: number): void {
    this.documents++;
    const { kept, topicFromMs } = this.coverage;
    this.probe.clear();
    this.probe.push(id, time);
    const inOutbox = kept ? this.outbox.find(this.probe, 0) : -1;
    // The first row of the id's run in id order: the one result() looks at.
    const inTopic = this.topic.find(this.probe, 0);
    if (inOutbox >= 0) this.outboxIndexed[inOutbox] = 1;
    if (inTopic >= 0) this.topicIndexed[inTopic] = 1;
    const untimed = Number.isNaN(time);
    const judgedByOutbox = kept && (untimed || outboxCovers(this.coverage, time));
    const judgedByTopic = untimed || (time >= topicFromMs && !outboxCovers(this.coverage, time));
    if ((judgedByOutbox && inOutbox < 0) || (judgedByTopic && inTopic < 0)) this.extra.pushRow(this.probe, 0);
  }

  /** Whether a document with the id at `row` of `t` was read (matched to a source or not). */
  indexed(t: IdTable, row: number): boolean {
    const inOutbox = this.coverage.kept ? this.outbox.find(t, row) : -1;
    if (inOutbox >= 0 && this.outboxIndexed[inOutbox]) return true;
    const inTopic = this.topic.find(t, row);
    if (inTopic >= 0 && this.topicIndexed[inTopic]) return true;
    return this.extra.find(t, row) >= 0;
  }

  /** `missing`: source events without a document; `extra`: documents without a source event (each id once). */
  result(): { missing: IdTable; extra: IdTable } {
    const missing = new IdTable(this.outbox.codec, 0);
    if (this.coverage.kept) {
      for (let k = 0; k < this.outbox.length; k++) {
        const row = this.outbox.rowAt(k);
        if (!this.outboxIndexed[row]) missing.pushRow(this.outbox, row);
      }
    }
    for (let k = 0; k < this.topic.length; k = endOfRun(this.topic, k)) {
      const row = this.topic.rowAt(k);
      // Outside the outbox's rows (or when it keeps none), the topic is the source.
      if (!outboxCovers(this.coverage, this.topic.time[row]!) && !this.topicIndexed[row]) missing.pushRow(this.topic, row);
    }
    return { missing: union(missing), extra: union(this.extra) };
  }
}

/** Pure: the stale table as the report names it. */
export function staleSample(t: IdTable, n = SAMPLE): { count: number; first: { id: string; version: number; expected: number }[] } {
  return {
    count: t.length,
    first: earliestRows(t, n).map((row) => ({ id: t.id(row), version: t.ints[STALE_VERSION]![row]!, expected: t.ints[STALE_EXPECTED]![row]! })),
  };
}
