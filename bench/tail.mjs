// Benchmark (not a test): `outboxctl topic tail … -e --format raw > /dev/null` side by side with
// `kcat -C -e -f '%s\n'` (librdkafka) on the same topic of 1,000,000 records (100,000 with --short).
// Usage: node bench/tail.mjs [--short]

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin/outboxctl');
const short = process.argv.includes('--short');
const records = short ? 100_000 : 1_000_000;
const rounds = short ? 1 : 3;
const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-tail-'));
const env = { ...process.env, OUTBOXCTL_HOME: home, NO_COLOR: '1' };
const outboxctl = (...args) => execa(bin, args, { env });
const seconds = async (file, args) => {
  const started = process.hrtime.bigint();
  await execa(file, args, { env, stdout: 'ignore', stderr: 'inherit' });
  return Number(process.hrtime.bigint() - started) / 1e9;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  await outboxctl('up', '--services', 'kafka');
  const state = JSON.parse(await readFile(path.join(home, 'stacks', 'default', 'state.json'), 'utf8'));
  const bootstrap = state.endpoints.kafka;
  await outboxctl('topic', 'create', 'bench', '-p', '3');
  // ~150-byte JSON values with keys, written by kcat (fast, and independent of the reader under test).
  const lines = Array.from(
    { length: records },
    (_, i) => `parcel-${i % 5000}:{"eventId":"${i}","eventType":"ParcelCreated","payload":{"contents":"benchmark record ${i}","status":"registered"}}`,
  );
  await execa('kcat', ['-P', '-b', bootstrap, '-t', 'bench', '-K:', '-z', 'lz4'], { input: `${lines.join('\n')}\n` });
  const ours = [];
  const theirs = [];
  for (let i = 0; i < rounds; i++) {
    ours.push(await seconds(bin, ['topic', 'tail', 'bench', '--from-beginning', '-e', '--format', 'raw']));
    theirs.push(await seconds('kcat', ['-C', '-b', bootstrap, '-t', 'bench', '-e', '-q', '-f', '%s\n']));
  }
  const oursRate = records / median(ours);
  const theirsRate = records / median(theirs);
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\ntopic tail of ${records.toLocaleString('en')} records (3 partitions, lz4) to /dev/null, ${machine}, median of ${rounds}:`);
  console.table([
    { reader: 'outboxctl topic tail -e --format raw', seconds: Number(median(ours).toFixed(2)), 'records/s': Math.round(oursRate) },
    { reader: "kcat -C -e -f '%s\\n'", seconds: Number(median(theirs).toFixed(2)), 'records/s': Math.round(theirsRate) },
  ]);
  console.log(`outboxctl / kcat: ${(oursRate / theirsRate).toFixed(2)}x`);
} finally {
  await execa(bin, ['down', '--volumes'], { env, reject: false });
  await rm(home, { recursive: true, force: true });
}
