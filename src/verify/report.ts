import type { IdSample, OrderViolation } from './compare.js';
import type { PipelineLag } from './lag.js';

/** The --json document of `outboxctl verify` (docs/verify.md); fields are only ever added. */
export interface VerifyReport {
  consistent: boolean;
  window: { from: string | null; to: string };
  /** How long verify waited for in-flight events after its first pass (0: consistent at once). */
  settledMs: number;
  stages: {
    outbox: {
      kept: boolean;
      rows: number;
      table: string;
      /** The oldest row's event time. */
      oldest: string | null;
      /** Set when the topic holds events older than the oldest row (rows pruned): those are judged against the topic only. */
      prunedBefore: string | null;
      /** The newest row's event time: later events are judged against the topic only. */
      newest: string | null;
      /** Records newer than the newest row (rows deleted after insert since, or written after the outbox was read): judged against the topic only. */
      newerOnTopic: number;
    };
    topic: {
      topic: string;
      records: number;
      distinct: number;
      repeated: number;
      missing: IdSample;
      extra: IdSample;
      orderViolations: { count: number; first: OrderViolation[] };
      /** Records without an outbox event id (not compared). */
      unrecognized: number;
      /** The oldest event time the topic still holds when retention deleted older records; null: it holds everything. */
      retainedFrom: string | null;
    };
    events: { index: string; source: 'outbox' | 'topic'; documents: number; missing: IdSample; extra: IdSample };
    parcels: {
      index: string;
      /** False when the projection index does not exist (Connect's plugin or `serve sink --no-projection`): not compared. */
      projected: boolean;
      rows: number;
      documents: number;
      missing: IdSample;
      stale: { count: number; first: { id: string; version: number; expected: number }[] };
      extra: IdSample;
    };
  };
  lag: PipelineLag;
  problems: string[];
  /** What is worth knowing but not a problem: repeats, what was not compared and why. */
  notes: string[];
}

export type VerifyStages = VerifyReport['stages'];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function ids(s: IdSample): string {
  const more = s.count > s.first.length ? ` (the first ${s.first.length} of ${s.count})` : '';
  return `${s.first.join(', ')}${more}`;
}

/** Pure: one sentence per finding that makes the pipeline inconsistent, naming the ids. */
export function problemsOf(stages: VerifyStages): string[] {
  const { outbox, topic, events, parcels } = stages;
  const problems: string[] = [];
  if (topic.missing.count) problems.push(`${plural(topic.missing.count, 'outbox row')} never reached ${topic.topic}: ${ids(topic.missing)}`);
  if (topic.extra.count)
    problems.push(`${plural(topic.extra.count, 'record')} on ${topic.topic} ${topic.extra.count === 1 ? 'has' : 'have'} no outbox row: ${ids(topic.extra)}`);
  if (topic.orderViolations.count) {
    const named = topic.orderViolations.first.map((v) => `key ${v.key}: event ${v.eventId} has version ${v.version} after version ${v.after}`).join('; ');
    problems.push(
      `${plural(topic.orderViolations.count, 'record')} on ${topic.topic} ${topic.orderViolations.count === 1 ? 'is' : 'are'} out of order for its key: ${named}`,
    );
  }
  if (events.missing.count)
    problems.push(
      `${plural(events.missing.count, 'event')} ${events.missing.count === 1 ? 'has' : 'have'} no document in ${events.index}: ${ids(events.missing)}`,
    );
  if (events.extra.count) {
    const source = events.source === 'outbox' && outbox.kept ? 'the outbox or on the topic' : topic.topic;
    problems.push(
      `${plural(events.extra.count, 'document')} in ${events.index} ${events.extra.count === 1 ? 'has' : 'have'} no event in ${source}: ${ids(events.extra)}`,
    );
  }
  if (parcels.missing.count)
    problems.push(
      `${plural(parcels.missing.count, 'parcel')} ${parcels.missing.count === 1 ? 'has' : 'have'} no document in ${parcels.index}: ${ids(parcels.missing)}`,
    );
  if (parcels.stale.count) {
    const named = parcels.stale.first.map((s) => `${s.id} (version ${s.version}, expected ${s.expected})`).join(', ');
    const more = parcels.stale.count > parcels.stale.first.length ? ` (the first ${parcels.stale.first.length} of ${parcels.stale.count})` : '';
    problems.push(
      `${plural(parcels.stale.count, 'document')} in ${parcels.index} ${parcels.stale.count === 1 ? 'is' : 'are'} not at the parcel's version: ${named}${more}`,
    );
  }
  if (parcels.extra.count)
    problems.push(
      `${plural(parcels.extra.count, 'document')} in ${parcels.index} ${parcels.extra.count === 1 ? 'has' : 'have'} no parcel row: ${ids(parcels.extra)}`,
    );
  return problems;
}

/** Pure: what is normal or was left out, said once each. */
export function notesOf(stages: VerifyStages): string[] {
  const { outbox, topic, events, parcels } = stages;
  const notes: string[] = [];
  if (topic.repeated)
    notes.push(
      `${plural(topic.repeated, 'record')} on ${topic.topic} ${topic.repeated === 1 ? 'repeats an event' : 'repeat events'} already on it: normal after a crash under at-least-once delivery (the sink indexes each event once, by id); not an error`,
    );
  if (!outbox.kept) notes.push(`the outbox keeps no rows (deleted after insert, or pruned): ${topic.topic} is the source of truth for ${events.index}`);
  else {
    if (outbox.prunedBefore) notes.push(`outbox rows older than ${outbox.prunedBefore} are gone (pruned): older events are judged against ${topic.topic} only`);
    if (outbox.newerOnTopic)
      notes.push(
        `${plural(outbox.newerOnTopic, 'record')} on ${topic.topic} ${outbox.newerOnTopic === 1 ? 'is' : 'are'} newer than the newest outbox row (${outbox.newest}): rows deleted after insert, or written after the outbox was read; judged against the topic only`,
      );
  }
  if (topic.retainedFrom)
    notes.push(`${topic.topic} holds events from ${topic.retainedFrom} on (retention deleted older records): older outbox rows are not judged`);
  if (topic.unrecognized) notes.push(`${plural(topic.unrecognized, 'record')} on ${topic.topic} carry no outbox event id: not compared`);
  if (!parcels.projected)
    notes.push(`there is no ${parcels.index} index (no projection: Connect's plugin or serve sink --no-projection): parcels not compared`);
  return notes;
}

const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/** Pure: the text of `outboxctl verify`: a line per stage, the notes and problems, the lag, the verdict. */
export function renderReport(report: VerifyReport): string {
  const { outbox, topic, events, parcels } = report.stages;
  const window = `${report.window.from ? `from ${report.window.from}` : 'from the beginning'} to ${report.window.to}`;
  const lines = [
    `window   ${window}`,
    `outbox   ${outbox.kept ? `${plural(outbox.rows, 'row')} in ${outbox.table}` : `not kept (${outbox.table} has no rows)`}`,
    `topic    ${plural(topic.records, 'record')} on ${topic.topic}, ${topic.distinct} distinct, ${topic.repeated} repeated, ${topic.missing.count} missing, ${topic.extra.count} extra, ${topic.orderViolations.count} out of order`,
    `events   ${plural(events.documents, 'document')} in ${events.index}, ${events.missing.count} missing, ${events.extra.count} extra (source: ${events.source})`,
    parcels.projected
      ? `parcels  ${plural(parcels.rows, 'row')}, ${plural(parcels.documents, 'document')} in ${parcels.index}, ${parcels.missing.count} missing, ${parcels.stale.count} stale, ${parcels.extra.count} extra`
      : `parcels  ${plural(parcels.rows, 'row')}, no ${parcels.index} index (not compared)`,
    ...report.notes.map((n) => `note: ${n}`),
    ...report.problems.map((p) => `problem: ${p}`),
    `lag      ${[
      report.lag.slotBytes === null ? 'slot unknown' : `slot ${bytes(report.lag.slotBytes)} behind`,
      report.lag.sinkRecords === null ? 'sink unknown' : `sink ${plural(report.lag.sinkRecords, 'record')} behind`,
      report.lag.notSearchable === null ? 'searchable unknown' : `${plural(report.lag.notSearchable, 'event')} not yet searchable`,
    ].join(', ')}`,
    report.consistent
      ? `consistent${report.settledMs ? ` (after waiting ${(report.settledMs / 1000).toFixed(1)}s for in-flight events)` : ''}`
      : `NOT consistent: ${plural(report.problems.length, 'problem')}${report.settledMs ? ` after waiting ${(report.settledMs / 1000).toFixed(1)}s for in-flight events` : ''}`,
  ];
  return lines.join('\n');
}
