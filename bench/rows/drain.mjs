// Row 5: outbox rows committed straight into PostgreSQL in 1,000-row transactions, timed until every
// event is on parcel.outbox (Debezium's part) and until both indices have every document (end to end).

import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { log, now, searchableCount } from '../lib/proc.mjs';
import { drainBatch } from '../lib/records.mjs';
import { summarize } from '../lib/stats.mjs';

const TOPIC = 'parcel.outbox';
const EVENTS_INDEX = 'parcel.outbox';
const PARCELS_INDEX = 'parcels';
const TX_ROWS = 1000;

async function endOffsets(admin) {
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

async function once(total, { database, kafka, elasticsearch }) {
  const client = new pg.Client({ connectionString: database });
  const admin = new kafkajs.Kafka({ brokers: [kafka], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await client.connect();
  await admin.connect();
  try {
    const base = {
      topic: await endOffsets(admin),
      events: await searchableCount(elasticsearch, EVENTS_INDEX),
      parcels: await searchableCount(elasticsearch, PARCELS_INDEX),
    };
    const batches = [];
    for (let at = 0; at < total; at += TX_ROWS) batches.push(drainBatch(Math.min(TX_ROWS, total - at), new Date(), at));
    const started = now();
    let inserted = null;
    const insert = (async () => {
      for (const { parcels, events } of batches) {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO parcel (id, contents, status, version, created_at, updated_at)
           SELECT id, contents, 'registered', 1, now(), now() FROM unnest($1::uuid[], $2::text[]) AS t(id, contents)`,
          [parcels.map((p) => p.id), parcels.map((p) => p.contents)],
        );
        await client.query(
          `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, occurred_at)
           SELECT id, 'parcel', aggregateid, type, payload::jsonb, now() AT TIME ZONE 'UTC'
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, aggregateid, type, payload)`,
          [events.map((e) => e.id), events.map((e) => e.aggregateid), events.map((e) => e.type), events.map((e) => e.payload)],
        );
        await client.query('COMMIT');
      }
      inserted = (now() - started) / 1000;
    })();
    let insertError = null;
    insert.catch((error) => {
      insertError = error;
    });
    let onTopic = null;
    let indexed = null;
    let seen = { topic: 0, events: 0, parcels: 0 };
    const deadline = started + Math.max(60_000, total * 3);
    while (now() < deadline && indexed === null && insertError === null) {
      const [topic, events, parcels] = await Promise.all([
        onTopic === null ? endOffsets(admin) : base.topic + total,
        searchableCount(elasticsearch, EVENTS_INDEX),
        searchableCount(elasticsearch, PARCELS_INDEX),
      ]);
      const t = (now() - started) / 1000;
      seen = { topic: topic - base.topic, events: events - base.events, parcels: parcels - base.parcels };
      if (onTopic === null && seen.topic >= total) onTopic = t;
      if (seen.events >= total && seen.parcels >= total && onTopic !== null) indexed = t;
      else await sleep(100);
    }
    await insert;
    if (indexed === null) {
      throw new Error(
        `after ${((now() - started) / 1000).toFixed(0)} s (a timeout, not a figure) only ${seen.topic} of ${total} events were on ${TOPIC}${onTopic === null ? '' : ` (all after ${onTopic.toFixed(1)} s, ${Math.round(total / onTopic)}/s)`}, ${seen.events} in ${EVENTS_INDEX} and ${seen.parcels} in ${PARCELS_INDEX}`,
      );
    }
    return { inserted, onTopic, indexed };
  } finally {
    await client.end().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

export async function drain({ short, endpoints }) {
  const total = short ? 10_000 : 50_000;
  const rounds = short ? 1 : 2;
  const runs = [];
  for (let i = 0; i < rounds; i++) {
    log(`drain: round ${i + 1}, ${total.toLocaleString('en-US')} rows`);
    runs.push(await once(total, endpoints));
  }
  const e2e = summarize(
    runs.map((r) => total / r.indexed),
    { percentiles: false },
  );
  const dbz = summarize(
    runs.map((r) => total / r.onTopic),
    { percentiles: false },
  );
  // Both rates from the same drain: the ratio of each round, then their median.
  const perRound = summarize(
    runs.map((r) => r.onTopic / r.indexed),
    { percentiles: false },
  );
  const value = perRound.median;
  const met = e2e.median === null || value === null ? null : e2e.median >= 5000 && value >= 0.9;
  return {
    figure: `drain: ${total.toLocaleString('en-US')} outbox rows in 1,000-row transactions → searchable in both indices`,
    unit: 'events/s',
    stats: e2e,
    cpu: null,
    peer: { label: `Debezium alone: the same rows → all on \`${TOPIC}\``, unit: 'events/s', stats: dbz, cpu: null },
    ratio: { value, text: `${value?.toFixed(2) ?? '—'}× Debezium` },
    target: '≥ 5,000/s end to end and ≥ 0.9× Debezium',
    met,
    error: null,
    notes: [
      `${rounds} round(s); each: ${total / TX_ROWS} transactions of ${TX_ROWS} parcel rows + ${TX_ROWS} outbox rows (ParcelCreated, the tracking server's payload {parcel, changed}) through pg; the clock starts before the first INSERT.`,
      `per round: inserted in ${runs.map((r) => `${r.inserted.toFixed(2)} s`).join(', ')}; all on ${TOPIC} (end offsets) after ${runs.map((r) => `${r.onTopic.toFixed(2)} s`).join(', ')}; searchable in ${EVENTS_INDEX} and ${PARCELS_INDEX} (_count, after refresh; polled every 100 ms) after ${runs.map((r) => `${r.indexed.toFixed(2)} s`).join(', ')}.`,
      'The insert time is a ceiling of both rates (the rows cannot be on the topic before they are committed).',
    ],
  };
}
