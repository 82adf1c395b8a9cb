// Row 11: a second embedded sink (`serve sink` with a fresh group and a fresh topic/index) replays N
// events, beside a plain `_bulk` script of the sink's batch size reading the same records.

import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { bin, http, log, now, root, searchableCount } from '../lib/proc.mjs';
import { replayRecords } from '../lib/records.mjs';
import { ratio, summarize } from '../lib/stats.mjs';

async function waitForCount(es, index, total, started, timeoutMs) {
  let seen = 0;
  while (now() - started < timeoutMs) {
    seen = await searchableCount(es, index).catch(() => seen);
    if (seen >= total) return (now() - started) / 1000;
    await sleep(100);
  }
  const s = (now() - started) / 1000;
  throw new Error(`only ${seen} of ${total} documents in ${index} after ${Math.round(s)} s (≈ ${Math.round(seen / s)}/s; a timeout, not a figure)`);
}

export async function sinkReplay({ short, stack, endpoints }) {
  const total = short ? 10_000 : 100_000;
  const rounds = short ? 1 : 2;
  const { parseSinkConfig } = await import(`${root}/dist/sink/config.js`);
  const file = JSON.parse(await readFile(path.join(root, 'kafka-connectors/es-sink-connector.json'), 'utf8'));
  const batchSize = parseSinkConfig(file.name, { ...file.config, 'connection.url': endpoints.elasticsearch }).batchSize;
  const templates = JSON.parse(await readFile(path.join(root, 'templates/elasticsearch/index-templates.json'), 'utf8'));
  const eventsTemplate = templates['parcel-outbox-events'].template;
  const sampleLine = (
    await execa('kcat', ['-C', '-b', endpoints.kafka, '-t', 'parcel.outbox', '-o', '-1', '-c', '1', '-e', '-q', '-f', '%k\t%s\n'])
  ).stdout.trim();
  if (!sampleLine) throw new Error('parcel.outbox has no record to take the shape from (the rows before put some there)');
  const [key, ...rest] = sampleLine.split('\t');
  const lines = replayRecords({ key, value: rest.join('\t') }, total);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-replay-'));
  const ours = [];
  const peer = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const topic = `bench.replay.${Date.now()}`;
      for (const [name, partitions] of [
        [topic, '1'],
        [`${topic}.dlq`, '1'],
      ]) {
        const created = await stack.run(['topic', 'create', name, '-p', partitions]);
        if (created.exitCode !== 0) throw new Error(`topic create ${name} failed: ${created.stderr.trim()}`);
      }
      log(`sink-replay: round ${round + 1}, ${total.toLocaleString('en-US')} records on ${topic}`);
      await execa('kcat', ['-P', '-b', endpoints.kafka, '-t', topic, '-K\t'], { input: `${lines.join('\n')}\n` });
      // The same settings and mappings as the events index, for the sink's index and the peer's.
      for (const index of [topic, `${topic}.bulk`]) await http(`${endpoints.elasticsearch}/${index}`, { method: 'PUT', body: eventsTemplate });
      const connectorFile = path.join(dir, `${topic}.json`);
      const config = { ...file.config, topics: topic, 'connection.url': endpoints.elasticsearch, 'errors.deadletterqueue.topic.name': `${topic}.dlq` };
      await writeFile(connectorFile, JSON.stringify({ name: `bench-replay-${randomUUID().slice(0, 8)}`, config }));

      const started = now();
      const sink = execa(bin, ['serve', 'sink', '--connector-file', connectorFile, '--port', '0', '--no-projection'], {
        env: stack.env,
        reject: false,
        stdin: 'ignore',
      });
      try {
        const done = waitForCount(endpoints.elasticsearch, topic, total, started, Math.max(90_000, total * 1.5));
        const exited = sink.then((r) => {
          throw new Error(`serve sink exited ${r.exitCode}: ${(r.stderr ?? '').trim().split('\n').at(-1)}`);
        });
        // The loser of the race settles later: it must not become an unhandled rejection.
        done.catch(() => undefined);
        exited.catch(() => undefined);
        ours.push(await Promise.race([done, exited]));
      } finally {
        sink.kill('SIGINT');
        await sink;
      }

      const peerStarted = now();
      const bulk = await execa(
        'node',
        [path.join(root, 'bench/bulk-peer.mjs'), endpoints.kafka, topic, endpoints.elasticsearch, `${topic}.bulk`, String(batchSize)],
        {
          reject: false,
          stdin: 'ignore',
        },
      );
      if (bulk.exitCode !== 0) throw new Error(`the _bulk peer failed: ${bulk.stderr.trim().split('\n').at(-1)}`);
      peer.push(await waitForCount(endpoints.elasticsearch, `${topic}.bulk`, total, peerStarted, 30_000));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const oursRate = summarize(
    ours.map((s) => total / s),
    { percentiles: false },
  );
  const peerRate = summarize(
    peer.map((s) => total / s),
    { percentiles: false },
  );
  const value = ratio(oursRate.median, peerRate.median);
  return {
    figure: `embedded sink, replay of ${total.toLocaleString('en-US')} events`,
    unit: 'events/s',
    stats: oursRate,
    cpu: null,
    peer: { label: `plain \`_bulk\` script, batch ${batchSize} (bench/bulk-peer.mjs)`, unit: 'events/s', stats: peerRate, cpu: null },
    ratio: { value, text: `${value?.toFixed(2) ?? '—'}×` },
    target: '≥ 0.9× the `_bulk` script',
    met: value === null ? null : value >= 0.9,
    error: null,
    notes: [
      `${rounds} round(s), each on a fresh topic (1 partition) of ${total.toLocaleString('en-US')} records copied in shape from a real parcel.outbox record (own event and parcel ids), produced by kcat; both indices created first with the events index's settings and mappings.`,
      `ours: \`outboxctl serve sink --connector-file F --no-projection --port 0\` (es-sink-connector.json with a fresh name, hence a fresh group, topic = index = the replay topic); timed from spawn (Node start, group join included) until _count of its index reached ${total.toLocaleString('en-US')}; ${ours.map((s) => `${s.toFixed(2)} s`).join(', ')}.`,
      `peer: kcat -C -e piped into a Node script posting \`_bulk\` index requests of ${batchSize} (the sink's batch.size), one in flight, _id = eventId, no offset commits; timed the same way (spawn → _count); ${peer.map((s) => `${s.toFixed(2)} s`).join(', ')}.`,
      'Without the projection: the parcels index has a fixed name, so a second sink could not get a fresh one; the event index is the same work for both.',
    ],
  };
}
