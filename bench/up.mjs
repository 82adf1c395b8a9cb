// Benchmark (not a test): `outboxctl up` from empty data (artifact cache warm) and again
// with the data kept, plus the stack's total resident memory once it is up.
// Usage: node bench/up.mjs [--short]

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin/outboxctl');
const rounds = process.argv.includes('--short') ? 1 : 3;
const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-up-'));
const env = { ...process.env, OUTBOXCTL_HOME: home, NO_COLOR: '1' };
const run = async (...args) => {
  const started = process.hrtime.bigint();
  const r = await execa(bin, args, { env, reject: false });
  if (r.exitCode !== 0) throw new Error(`outboxctl ${args.join(' ')} failed:\n${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  await run('fetch');
  const cold = [];
  const warm = [];
  let rss = 0;
  let perService = [];
  for (let i = 0; i < rounds; i++) {
    cold.push(await run('up'));
    const status = JSON.parse((await execa(bin, ['status', '--json'], { env })).stdout);
    perService = status.services.map((s) => `${s.name} ${Math.round((s.rssBytes ?? 0) / 2 ** 20)} MiB`);
    rss = status.services.reduce((sum, s) => sum + (s.rssBytes ?? 0), 0);
    await run('down');
    warm.push(await run('up'));
    await run('down', '--volumes');
    process.stderr.write(`  round ${i + 1}: cold ${cold.at(-1).toFixed(1)}s, warm ${warm.at(-1).toFixed(1)}s\n`);
  }
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\noutboxctl up (every service and the pipeline's one-time steps), native runtime, ${machine}, ${rounds} round(s), median:`);
  console.table([
    { case: 'cold (artifacts cached, data empty)', seconds: Number(median(cold).toFixed(1)) },
    { case: 'warm (data kept)', seconds: Number(median(warm).toFixed(1)) },
  ]);
  console.log(`stack RSS when up: ${Math.round(rss / 2 ** 20)} MiB (${perService.join(', ')})`);
} finally {
  await execa(bin, ['down', '--volumes'], { env, reject: false });
  await rm(home, { recursive: true, force: true });
}
