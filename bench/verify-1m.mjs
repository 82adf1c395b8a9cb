// Benchmark (not a test, not part of `npm run bench`): `outboxctl verify` over 1,000,000 events.
// On a stack of its own with Connect and the sink stopped, it writes the same consistent events
// straight into the three stores — outbox rows with generate_series, records with kafkajs,
// documents with _bulk, and the parcels (4 events each) with their projection — then runs
// `verify --from-beginning --json` under /usr/bin/time -v and prints its wall time and peak RSS.
// Usage: node bench/verify-1m.mjs [--events N] [--keep]

import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import kafkajs from 'kafkajs';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin/outboxctl');
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const events = process.argv.includes('--events') ? Number(arg('--events')) : 1_000_000;
const keep = process.argv.includes('--keep');
const PER_PARCEL = 4;
const parcels = Math.ceil(events / PER_PARCEL);
const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-verify-'));
const env = { ...process.env, OUTBOXCTL_HOME: home, NO_COLOR: '1' };
// Every event lies before verify's window end: 2 ms apart, ending a minute ago.
const baseMs = Date.now() - 60_000 - events * 2;

const log = (m) => process.stderr.write(`${m}\n`);
const seconds = (t0) => `${((performance.now() - t0) / 1000).toFixed(1)}s`;

// The same ids in SQL (md5(text)::uuid) and here.
const md5uuid = (text) => {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const eventId = (i) => md5uuid(`e${i}`);
const parcelId = (p) => md5uuid(`p${p}`);
const iso = (ms) => new Date(ms).toISOString();

/** Event i: parcel i / 4 at version i % 4 + 1, as the tracking server writes it and the router publishes it. */
function event(i) {
  const p = Math.floor(i / PER_PARCEL);
  const version = (i % PER_PARCEL) + 1;
  const at = baseMs + i * 2;
  const created = baseMs + p * PER_PARCEL * 2;
  const parcel = { id: parcelId(p), status: 'registered', version, contents: `parcel ${p}`, createdAt: iso(created), updatedAt: iso(at) };
  return {
    payload: { parcel, changed: version === 1 ? ['contents', 'status'] : ['contents'] },
    eventId: eventId(i),
    eventType: version === 1 ? 'ParcelCreated' : 'ParcelUpdated',
    aggregateType: 'parcel',
    aggregateId: parcel.id,
    occurredAt: at,
  };
}

async function populateDatabase(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Same ids, versions and times as event(i); the payload mirrors it closely enough for a reconciliation by id.
    await client.query(
      `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, occurred_at)
       SELECT md5('e' || i)::uuid, 'parcel', md5('p' || (i / $2))::uuid::text,
              CASE WHEN i % $2 = 0 THEN 'ParcelCreated' ELSE 'ParcelUpdated' END,
              jsonb_build_object('parcel', jsonb_build_object('id', md5('p' || (i / $2))::uuid, 'version', i % $2 + 1)),
              to_timestamp(($3::bigint + i * 2) / 1000.0) AT TIME ZONE 'UTC'
       FROM generate_series(0, $1::int - 1) AS i`,
      [events, PER_PARCEL, baseMs],
    );
    await client.query(
      `INSERT INTO parcel (id, contents, status, version, created_at, updated_at)
       SELECT md5('p' || p)::uuid, 'parcel ' || p, 'registered', LEAST($2, $3::int - p * $2),
              to_timestamp(($4::bigint + p * $2 * 2) / 1000.0),
              to_timestamp(($4::bigint + (p * $2 + LEAST($2, $3::int - p * $2) - 1) * 2) / 1000.0)
       FROM generate_series(0, $1::int - 1) AS p`,
      [parcels, PER_PARCEL, events, baseMs],
    );
    await client.query('ANALYZE outbox; ANALYZE parcel');
  } finally {
    await client.end();
  }
}

async function populateTopic(bootstrap) {
  const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One send is one record batch: it must stay under the broker's 1 MB message.max.bytes.
    const BATCH = 1_000;
    const IN_FLIGHT = 4;
    const batch = (from) => {
      const messages = [];
      for (let i = from; i < Math.min(events, from + BATCH); i++) {
        const e = event(i);
        messages.push({ key: e.aggregateId, value: JSON.stringify(e), timestamp: String(e.occurredAt), headers: { id: e.eventId } });
      }
      return messages;
    };
    for (let from = 0; from < events; from += BATCH * IN_FLIGHT) {
      const sends = [];
      for (let k = 0; k < IN_FLIGHT && from + k * BATCH < events; k++) {
        sends.push(producer.send({ topic: 'parcel.outbox', messages: batch(from + k * BATCH), acks: 1 }));
      }
      await Promise.all(sends);
    }
  } finally {
    await producer.disconnect();
  }
}

async function bulk(es, lines) {
  const r = await fetch(`${es}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${lines.join('\n')}\n` });
  const body = await r.json();
  if (!r.ok || body.errors) throw new Error(`_bulk failed: ${JSON.stringify(body).slice(0, 500)}`);
}

async function populateIndices(es) {
  // No refreshes while loading: far faster, and verify only needs the data at the end.
  for (const index of ['parcel.outbox', 'parcels']) {
    await fetch(`${es}/${index}`, { method: 'PUT' });
    await fetch(`${es}/${index}/_settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"index":{"refresh_interval":"-1"}}' });
  }
  const BATCH = 10_000;
  for (let from = 0; from < events; from += BATCH) {
    const lines = [];
    for (let i = from; i < Math.min(events, from + BATCH); i++) {
      const e = event(i);
      lines.push(JSON.stringify({ index: { _index: 'parcel.outbox', _id: e.eventId } }), JSON.stringify(e));
      const last = i % PER_PARCEL === PER_PARCEL - 1 || i === events - 1;
      if (last) {
        const doc = { ...e.payload.parcel, lastEventId: e.eventId, lastEventType: e.eventType };
        lines.push(JSON.stringify({ index: { _index: 'parcels', _id: doc.id, version: doc.version, version_type: 'external' } }), JSON.stringify(doc));
      }
    }
    await bulk(es, lines);
  }
  for (const index of ['parcel.outbox', 'parcels']) {
    await fetch(`${es}/${index}/_settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"index":{"refresh_interval":"1s"}}' });
    await fetch(`${es}/${index}/_refresh`, { method: 'POST' });
  }
}

/** Wall time and peak RSS of one command, from GNU time's verbose report. */
function timeReport(stderr) {
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(stderr)?.[1];
  const wallSeconds = wall?.split(':').reduce((s, part) => s * 60 + Number(part), 0);
  return { wallSeconds, peakRssMiB: rss ? Math.round(Number(rss) / 1024) : undefined };
}

try {
  let t0 = performance.now();
  log(`outboxctl up (home ${home})`);
  const up = await execa(bin, ['up', '--runtime', 'native'], { env, reject: false });
  if (up.exitCode !== 0) throw new Error(`outboxctl up failed:\n${up.stderr}`);
  // Nothing may write or index meanwhile: the stores are filled by hand.
  await execa(bin, ['stop', 'tracking', 'auditing', 'sink', 'connect'], { env });
  const { endpoints } = JSON.parse(await readFile(path.join(home, 'stacks', 'default', 'state.json'), 'utf8'));
  log(`stack up and connect, sink, tracking stopped (${seconds(t0)})`);

  t0 = performance.now();
  await populateDatabase(endpoints.database);
  log(`${events} outbox rows and ${parcels} parcels (${seconds(t0)})`);
  t0 = performance.now();
  await populateTopic(endpoints.kafka);
  log(`${events} records on parcel.outbox (${seconds(t0)})`);
  t0 = performance.now();
  await populateIndices(endpoints.elasticsearch);
  log(`${events} event documents and ${parcels} parcel documents (${seconds(t0)})`);

  const run = await execa('/usr/bin/time', ['-v', 'node', bin, 'verify', '--from-beginning', '--json'], { env, reject: false });
  const report = JSON.parse(run.stdout);
  const figures = timeReport(run.stderr);
  const result = {
    events,
    parcels,
    exitCode: run.exitCode,
    consistent: report.consistent,
    topicRecords: report.stages?.topic.records,
    documents: report.stages?.events.documents,
    parcelDocuments: report.stages?.parcels.documents,
    problems: report.problems,
    wallSeconds: figures.wallSeconds,
    peakRssMiB: figures.peakRssMiB,
    cpus: os.cpus().length,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  log(`verify over ${events} events: ${figures.wallSeconds}s wall, peak RSS ${figures.peakRssMiB} MiB (${os.cpus().length} CPUs)`);
  if (run.exitCode !== 0) process.exitCode = 1;
} finally {
  if (!keep) await execa(bin, ['down', '--volumes'], { env, reject: false });
}
