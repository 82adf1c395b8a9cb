// Row 6: POST /api/parcel through `outboxctl serve tracking` on its own embedded PostgreSQL, with
// autocannon; beside pgbench's single-row INSERT transactions on the same PostgreSQL (the ceiling).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { execa } from 'execa';
import { bin, log, root } from '../lib/proc.mjs';
import { ratio, summarize } from '../lib/stats.mjs';

// Few connections: with many, autocannon fires rate-limited requests in bursts and the latency measures the burst.
const CONNECTIONS = 10;

function cannon(url, seconds, rate) {
  return autocannon({
    url: `${url}/api/parcel`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contents: 'Kotlin is cool' }),
    connections: CONNECTIONS,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
  });
}

export async function tracking({ short }) {
  const seconds = short ? 3 : 10;
  const rounds = short ? 1 : 2;
  const { ensurePostgres, stopPostgres } = await import(`${root}/dist/stack/postgres.js`);
  const { stackPaths } = await import(`${root}/dist/stack/paths.js`);
  const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-tracking-'));
  const paths = stackPaths(home, 'bench');
  let serve;
  try {
    const pg = await ensurePostgres(paths, { onProgress: () => undefined });
    serve = execa(bin, ['serve', 'tracking', '--port', '0', '--database-url', pg.url], {
      env: { ...process.env, OUTBOXCTL_HOME: home, NO_COLOR: '1' },
      reject: false,
    });
    const url = await new Promise((resolve, reject) => {
      serve.stdout.on('data', (c) => {
        const m = /http:\/\/[\d.]+:\d+/.exec(String(c));
        if (m) resolve(m[0]);
      });
      serve.then((r) => reject(new Error(`the tracking server exited: ${(r.stderr ?? '').trim().split('\n').at(-1)}`)));
    });
    const u = new URL(pg.url);
    const pgEnv = {
      ...process.env,
      PGHOST: u.hostname,
      PGPORT: u.port,
      PGUSER: u.username,
      PGPASSWORD: decodeURIComponent(u.password),
      PGDATABASE: u.pathname.slice(1),
    };
    const script = path.join(home, 'insert.sql');
    await writeFile(script, "INSERT INTO bench_parcel (id, contents) VALUES (gen_random_uuid(), 'Kotlin is cool');\n");
    await execa('psql', ['-q', '-c', 'CREATE TABLE IF NOT EXISTS bench_parcel (id uuid PRIMARY KEY, contents text NOT NULL)'], { env: pgEnv });

    await cannon(url, 2, 0); // warm-up: JIT and the pool; not in the figures
    const fixed = [];
    const max = [];
    const tps = [];
    for (let round = 0; round < rounds; round++) {
      log(`tracking: round ${round + 1}: 1,000/s, unbounded, pgbench, ${seconds} s each`);
      fixed.push(await cannon(url, seconds, 1000));
      max.push(await cannon(url, seconds, 0));
      const bench = await execa('pgbench', ['-n', '-c', String(CONNECTIONS), '-j', '2', '-T', String(seconds), '-f', script], { env: pgEnv, reject: false });
      const value = Number(/tps = ([\d.]+)/.exec(bench.stdout)?.[1]);
      if (!Number.isFinite(value)) throw new Error(`pgbench gave no tps (exit ${bench.exitCode}): ${bench.stderr.trim().split('\n').at(-1)}`);
      tps.push(value);
    }
    const sustained = summarize(
      max.map((r) => r.requests.average),
      { percentiles: false },
    );
    const ceiling = summarize(tps, { percentiles: false });
    const value = ratio(sustained.median, ceiling.median);
    const errors = [...fixed, ...max].reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    const notes = [
      `the tracking server as a process (\`outboxctl serve tracking --port 0\`) on its own embedded PostgreSQL 17 (not the shared stack), each request a parcel + its outbox row in one transaction; autocannon in the harness, ${CONNECTIONS} connections, ${seconds} s per step, ${rounds} round(s) of: 1,000/s, unbounded, pgbench; after a 2 s warm-up.`,
      `unbounded req/s per round: ${max.map((r) => Math.round(r.requests.average)).join(', ')} (mean of autocannon's per-second counts; min–max over rounds); ${errors} non-2xx or errors in all steps.`,
      `pgbench -n -c ${CONNECTIONS} -j 2 -T ${seconds}, single-row INSERT (gen_random_uuid(), text) into a two-column table: ${tps.map((t) => Math.round(t)).join(', ')} tps.`,
    ];
    const rows = [
      {
        figure: 'tracking `POST /api/parcel`, sustained (own PostgreSQL + `serve tracking`)',
        unit: 'req/s',
        stats: sustained,
        cpu: null,
        peer: { label: 'pgbench single-row INSERT, same PostgreSQL', unit: 'tps', stats: ceiling, cpu: null },
        ratio: { value, text: `${value?.toFixed(2) ?? '—'}× pgbench` },
        target: '≥ 3,000/s',
        met: sustained.median === null ? null : sustained.median >= 3000,
        error: errors > 0 && max.every((r) => r.requests.average === 0) ? 'every request failed' : null,
        notes,
      },
    ];
    const at1000 = fixed.at(-1);
    const achieved = fixed.map((r) => r.requests.average);
    const latency = {
      n: at1000.requests.total,
      median: at1000.latency.p50,
      p95: null,
      p99: at1000.latency.p99,
      min: at1000.latency.min,
      max: at1000.latency.max,
    };
    const p99s = fixed.map((r) => r.latency.p99);
    rows.push({
      figure: 'tracking `POST /api/parcel` latency at 1,000/s (same server)',
      unit: 'ms',
      stats: latency,
      cpu: null,
      peer: null,
      ratio: null,
      target: 'p99 ≤ 20 ms at 1,000/s',
      met: Math.max(...p99s) <= 20 && Math.min(...achieved) >= 950,
      error: null,
      notes: [
        `autocannon at overallRate 1,000/s, ${CONNECTIONS} connections, ${seconds} s; achieved ${achieved.map((a) => Math.round(a)).join(', ')} req/s; p99 per round ${p99s.join(', ')} ms (the table shows the last round; autocannon gives p50/p90/p97.5/p99, no p95); met needs p99 ≤ 20 ms in every round and ≥ 950 req/s achieved.`,
      ],
    });
    return rows;
  } finally {
    if (serve) {
      serve.kill('SIGINT');
      await serve;
    }
    await stopPostgres(paths).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}
