// The peer of the embedded sink (row 11 of bench/run.mjs): kcat reads every record of a topic,
// this script posts them to the search engine as plain `_bulk` index requests of the sink's batch
// size, one request in flight, each document's id its eventId, as the sink's transforms make it.
// Usage: node bench/bulk-peer.mjs BOOTSTRAP TOPIC ES_URL INDEX BATCH_SIZE

import readline from 'node:readline';
import { execa } from 'execa';

const [bootstrap, topic, es, index, batchText] = process.argv.slice(2);
const batchSize = Number(batchText);
if (!bootstrap || !topic || !es || !index || !(batchSize > 0)) {
  process.stderr.write('Usage: node bench/bulk-peer.mjs BOOTSTRAP TOPIC ES_URL INDEX BATCH_SIZE\n');
  process.exit(2);
}

const kcat = execa('kcat', ['-C', '-b', bootstrap, '-t', topic, '-e', '-q', '-f', '%s\n'], { buffer: false, stderr: 'inherit', stdin: 'ignore' });
let lines = [];
let posted = 0;

async function post(batch) {
  let body = '';
  for (const value of batch) body += `${JSON.stringify({ index: { _index: index, _id: JSON.parse(value).eventId } })}\n${value}\n`;
  const r = await fetch(`${es}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  const result = await r.json();
  if (!r.ok || result.errors)
    throw new Error(`_bulk failed: HTTP ${r.status} ${JSON.stringify(result.items?.find((i) => i.index?.error) ?? result).slice(0, 300)}`);
  posted += batch.length;
}

for await (const line of readline.createInterface({ input: kcat.stdout, crlfDelay: Number.POSITIVE_INFINITY })) {
  if (!line) continue;
  lines.push(line);
  if (lines.length >= batchSize) {
    const batch = lines;
    lines = [];
    await post(batch);
  }
}
if (lines.length) await post(lines);
await kcat;
process.stdout.write(`${posted}\n`);
