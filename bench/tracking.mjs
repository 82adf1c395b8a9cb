// Benchmark (not a test): POST /api/parcel through the real tracking server process at
// increasing rates, next to pgbench's single-row INSERT rate on the same PostgreSQL.
// Usage: node bench/tracking.mjs [--short]

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { execa } from 'execa';

const root = fileURLToPath(new URL('..', import.meta.url));
const { ensurePostgres, stopPostgres } = await import(`${root}/dist/stack/postgres.js`);
const { stackPaths } = await import(`${root}/dist/stack/paths.js`);

const short = process.argv.includes('--short');
const durationS = short ? 3 : 10;
const rates = short ? [500, 0] : [250, 500, 1000, 2000, 4000, 0];
// Few connections: with many, autocannon fires rate-limited requests in bursts and the latency measures the burst.
const connections = 10;

const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-'));
const paths = stackPaths(home, 'bench');
const log = (m) => process.stderr.write(`${m}\n`);
let serve;
try {
  const pg = await ensurePostgres(paths, { onProgress: log });
  serve = execa(path.join(root, 'bin/outboxctl'), ['serve', 'tracking', '--port', '0', '--database-url', pg.url], {
    env: { OUTBOXCTL_HOME: home },
    reject: false,
  });
  const url = await new Promise((resolve, reject) => {
    serve.stdout.on('data', (c) => {
      const m = /http:\/\/[\d.]+:\d+/.exec(String(c));
      if (m) resolve(m[0]);
    });
    serve.then((r) => reject(new Error(`tracking server exited: ${r.stderr}`)));
  });
  log(`tracking server ${url}; ${durationS}s per step, ${connections} connections`);

  const rows = [];
  for (const rate of rates) {
    const result = await autocannon({
      url: `${url}/api/parcel`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: 'Kotlin is cool' }),
      connections,
      duration: durationS,
      ...(rate > 0 ? { overallRate: rate } : {}),
    });
    rows.push({
      target: rate > 0 ? `${rate}/s` : 'max',
      'req/s': Math.round(result.requests.average),
      'p50 ms': result.latency.p50,
      'p99 ms': result.latency.p99,
      'non-2xx': result.non2xx + result.errors,
    });
    log(`  ${rows.at(-1).target}: ${rows.at(-1)['req/s']} req/s`);
  }

  // The ceiling: one-row INSERTs of the same shape, straight into PostgreSQL.
  const script = path.join(home, 'insert.sql');
  await writeFile(script, "INSERT INTO bench_parcel (id, contents) VALUES (gen_random_uuid(), 'Kotlin is cool');\n");
  const u = new URL(pg.url);
  const pgEnv = { PGHOST: u.hostname, PGPORT: u.port, PGUSER: u.username, PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: u.pathname.slice(1) };
  let ceiling = 'pgbench not found (Debian: apt-get install postgresql-client / postgresql)';
  const setup = await execa('psql', ['-q', '-c', 'CREATE TABLE IF NOT EXISTS bench_parcel (id uuid PRIMARY KEY, contents text NOT NULL)'], {
    env: pgEnv,
    reject: false,
  });
  if (setup.exitCode === 0) {
    const bench = await execa('pgbench', ['-n', '-c', String(connections), '-j', '2', '-T', String(durationS), '-f', script], { env: pgEnv, reject: false });
    const tps = /tps = ([\d.]+)/.exec(bench.stdout)?.[1];
    if (tps) ceiling = `${Math.round(Number(tps))} inserts/s (pgbench -c 10 -j 2, single-row INSERT)`;
  }

  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\nPOST /api/parcel — tracking server (parcel + outbox row per request), ${machine}`);
  console.table(rows);
  console.log(`PostgreSQL ceiling: ${ceiling}`);
} finally {
  if (serve) {
    serve.kill('SIGINT');
    await serve;
  }
  await stopPostgres(paths);
  await rm(home, { recursive: true, force: true });
}
