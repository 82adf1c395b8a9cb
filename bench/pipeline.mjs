// Benchmark (not a test): latency through the whole pipeline at a steady create rate —
// commit (the tracking server's 201) → record on parcel.outbox → searchable in Elasticsearch —
// and the highest create rate at which the lag stays bounded.
// Usage: node bench/pipeline.mjs [--short]

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import kafkajs from 'kafkajs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin/outboxctl');
const short = process.argv.includes('--short');
const steady = { rate: 50, seconds: short ? 10 : 30 };
const ramp = short ? [200, 400] : [100, 200, 400, 800, 1200, 1600];
const rampSeconds = short ? 5 : 10;
const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-pipeline-'));
const env = { ...process.env, OUTBOXCTL_HOME: home, NO_COLOR: '1' };

const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Observes each parcel's first event: when its record arrives and when it becomes searchable. */
class Observer {
  constructor(endpoints) {
    this.endpoints = endpoints;
    this.committed = new Map(); // parcel id → commit time
    this.onTopic = new Map();
    this.searchable = new Map();
    this.searchAfter = undefined;
    this.running = true;
  }

  async start() {
    const kafka = new kafkajs.Kafka({ brokers: [this.endpoints.kafka], logLevel: kafkajs.logLevel.NOTHING });
    this.consumer = kafka.consumer({ groupId: `bench-${Date.now()}`, maxWaitTimeInMs: 50 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: 'parcel.outbox', fromBeginning: false });
    const joined = new Promise((resolve) => this.consumer.on(this.consumer.events.GROUP_JOIN, resolve));
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        const now = performance.now();
        for (const m of batch.messages) {
          const key = m.key?.toString();
          if (key && !this.onTopic.has(key)) this.onTopic.set(key, now);
        }
      },
    });
    await joined;
    this.polling = this.poll();
  }

  // Documents become visible in indexing order on the single shard: page through them by _seq_no.
  async poll() {
    while (this.running) {
      const body = {
        size: 5000,
        sort: [{ _seq_no: 'asc' }],
        _source: ['aggregateId', 'eventType'],
        query: { term: { eventType: 'ParcelCreated' } },
        ...(this.searchAfter ? { search_after: this.searchAfter } : {}),
      };
      const r = await fetch(`${this.endpoints.elasticsearch}/parcel.outbox/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
        .then((x) => x.json())
        .catch(() => undefined);
      const now = performance.now();
      for (const hit of r?.hits?.hits ?? []) {
        if (!this.searchable.has(hit._source.aggregateId)) this.searchable.set(hit._source.aggregateId, now);
        this.searchAfter = hit.sort;
      }
      if (!r?.hits?.hits?.length) await sleep(50);
    }
  }

  async stop() {
    this.running = false;
    await this.polling;
    await this.consumer.disconnect();
  }
}

/** Creates parcels at `rate`/s for `seconds`; returns the ids and the rate achieved. */
async function drive(url, observer, rate, seconds) {
  const ids = [];
  const started = performance.now();
  const total = rate * seconds;
  const inFlight = new Set();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const request = fetch(`${url}/api/parcel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: `bench ${i}` }),
    })
      .then((r) => r.json())
      .then((p) => {
        observer.committed.set(p.id, performance.now());
        ids.push(p.id);
      })
      .catch(() => undefined);
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
    if (inFlight.size > 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { ids, achieved: ids.length / ((performance.now() - started) / 1000) };
}

async function settle(observer, ids, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && ids.some((id) => !observer.searchable.has(id))) await sleep(100);
  return ids.every((id) => observer.searchable.has(id));
}

const latencies = (observer, ids, stage) => ids.filter((id) => observer[stage].has(id)).map((id) => observer[stage].get(id) - observer.committed.get(id));

try {
  const up = await execa(bin, ['up'], { env, reject: false });
  if (up.exitCode !== 0) throw new Error(`outboxctl up failed:\n${up.stderr}`);
  const { endpoints } = JSON.parse(await readFile(path.join(home, 'stacks', 'default', 'state.json'), 'utf8'));
  const observer = new Observer(endpoints);
  await observer.start();

  // Warm-up: the first documents create the indices (from the templates); not part of the figures.
  const warm = await drive(endpoints.tracking, observer, 10, 2);
  await settle(observer, warm.ids, 60_000);

  process.stderr.write(`steady: ${steady.rate} parcels/s for ${steady.seconds}s\n`);
  const base = await drive(endpoints.tracking, observer, steady.rate, steady.seconds);
  await settle(observer, base.ids, 30_000);
  const toTopic = latencies(observer, base.ids, 'onTopic');
  const toSearch = latencies(observer, base.ids, 'searchable');

  const phases = [];
  for (const rate of ramp) {
    process.stderr.write(`ramp: ${rate} parcels/s for ${rampSeconds}s\n`);
    const phase = await drive(endpoints.tracking, observer, rate, rampSeconds);
    const drained = await settle(observer, phase.ids, 5_000);
    const lag = latencies(observer, phase.ids, 'searchable');
    phases.push({ target: rate, achieved: Math.round(phase.achieved), drainedWithin5s: drained, p99SearchableMs: Math.round(pct(lag, 99)) });
    if (!drained || phase.achieved < rate * 0.9) break;
  }
  await observer.stop();

  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\npipeline latency at ${steady.rate} parcels/s for ${steady.seconds}s (${base.ids.length} events), ${machine}, native runtime, embedded sink:`);
  console.table([
    {
      stage: 'commit → record on parcel.outbox',
      p50_ms: Math.round(pct(toTopic, 50)),
      p95_ms: Math.round(pct(toTopic, 95)),
      p99_ms: Math.round(pct(toTopic, 99)),
      seen: toTopic.length,
    },
    {
      stage: 'commit → searchable in Elasticsearch',
      p50_ms: Math.round(pct(toSearch, 50)),
      p95_ms: Math.round(pct(toSearch, 95)),
      p99_ms: Math.round(pct(toSearch, 99)),
      seen: toSearch.length,
    },
  ]);
  console.log(`ramp (${rampSeconds}s per rate; sustained = ≥90% of the target rate and every event searchable within 5 s after the phase):`);
  console.table(phases);
  const sustained = phases.filter((p) => p.drainedWithin5s && p.achieved >= p.target * 0.9).map((p) => p.achieved);
  console.log(
    sustained.length
      ? `highest sustained create rate: ${Math.max(...sustained)} events/s (the tracking server shares the 2 cores with every JVM)`
      : 'highest sustained create rate: none of the rates tried reached 90% of its target with bounded lag (short phases include JIT warm-up)',
  );
} finally {
  await execa(bin, ['down', '--volumes'], { env, reject: false });
  await rm(home, { recursive: true, force: true });
}
