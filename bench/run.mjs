// The benchmark harness (issue 17): builds the stack(s) once, runs the selected rows, prints one
// table (figure, median, p95/p99, min–max, the peer's figure, the ratio, the target, met) and
// writes --json / --markdown. Benchmarks never fail on a duration: a row that errors prints its
// error and the harness goes on; the exit code is non-zero only when the harness itself breaks.
// Usage: npm run bench -- [--short] [--only NAME,…] [--json FILE] [--markdown FILE]

import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs, ROWS, selectRows, USAGE, UsageError } from './lib/args.mjs';
import { machine } from './lib/machine.mjs';
import { liveStacks, log, Stack } from './lib/proc.mjs';
import { renderMarkdown, renderNotes, renderTable } from './lib/render.mjs';
import { help, smoke, status, topicList } from './rows/commands.mjs';
import { drain } from './rows/drain.mjs';
import { latency } from './rows/latency.mjs';
import { sinkReplay } from './rows/replay.mjs';
import { tail } from './rows/tail.mjs';
import { tracking } from './rows/tracking.mjs';
import { upFresh, upWarm } from './rows/up.mjs';

/** Each row: what runs it, whether it needs the shared stack, and what its line says should it fail. */
const RUNNERS = {
  help: { run: help, stack: false, figure: '`outboxctl --help`, cold', unit: 'ms', target: '≤ 1.3× `node -e 0` in CPU time' },
  status: { run: status, stack: true, figure: '`outboxctl status`, 7 services running', unit: 'ms', target: '≤ 250 ms' },
  'topic-list': { run: topicList, stack: true, figure: '`outboxctl topic list`', unit: 'ms', target: '≤ `node -e 0` + 60 ms' },
  smoke: { run: smoke, stack: true, figure: '`outboxctl smoke` on a running stack, whole command', unit: 'ms', target: '≤ 1,500 ms' },
  latency: { run: latency, stack: true, figure: 'commit → searchable, p99 at 500 events/s', unit: 'ms', target: 'p99 ≤ refresh interval + 300 ms' },
  tail: { run: tail, stack: true, figure: '`topic tail -e --format raw` to /dev/null', unit: 'records/s', target: "≥ 1.0× kcat's records/s" },
  drain: {
    run: drain,
    stack: true,
    figure: 'drain: outbox rows → searchable in both indices',
    unit: 'events/s',
    target: '≥ 5,000/s end to end and ≥ 0.9× Debezium',
  },
  'sink-replay': { run: sinkReplay, stack: true, figure: 'embedded sink, replay of events', unit: 'events/s', target: '≥ 0.9× the `_bulk` script' },
  'up-warm': { run: upWarm, stack: true, figure: '`up`, warm (data kept), to all ready', unit: 's', target: '≤ 12 s' },
  tracking: { run: tracking, stack: false, figure: 'tracking `POST /api/parcel`, sustained', unit: 'req/s', target: '≥ 3,000/s; p99 ≤ 20 ms at 1,000/s' },
  'up-fresh': { run: upFresh, stack: false, figure: '`up` on a fresh machine, empty caches', unit: 's', target: '≤ 1.2× the Maven step alone' },
};

const mib = (bytes) => Math.round(bytes / 2 ** 20).toLocaleString('en-US');

async function memoryLine(stack, when) {
  try {
    const s = await stack.status();
    const total = s.services.reduce((sum, x) => sum + (x.rssBytes ?? 0), 0);
    return `stack resident memory ${when} (\`status --json\`): ${mib(total)} MiB (${s.services.map((x) => `${x.name} ${mib(x.rssBytes ?? 0)}`).join(', ')} MiB)`;
  } catch (error) {
    return `stack resident memory ${when}: not read (${error.message})`;
  }
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.fromJson) {
    const report = JSON.parse(await readFile(options.fromJson, 'utf8'));
    process.stdout.write(`${renderTable(report.rows)}\n\n${report.info.join('\n')}\n\n${renderNotes(report.rows)}\n`);
    if (options.markdown) await writeFile(options.markdown, renderMarkdown(report));
    return 0;
  }
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const names = selectRows(options);
  const info = [];
  const rows = [];
  const mach = await machine();
  let stack;
  let endpoints;
  let stackError;
  try {
    if (names.some((n) => RUNNERS[n].stack)) {
      stack = process.env.BENCH_STACK_HOME ? Stack.existing(process.env.BENCH_STACK_HOME) : await Stack.create('main');
      log(`up of the shared stack (OUTBOXCTL_HOME=${stack.home})`);
      try {
        const up = await stack.up();
        endpoints = await stack.endpoints();
        info.push(
          stack.external
            ? `the shared stack: the one already up under BENCH_STACK_HOME=${stack.home} (\`up\` found it running in ${up.seconds.toFixed(1)} s)`
            : `the shared stack: \`up\` of seven services in ${up.seconds.toFixed(1)} s (artifacts cached, data empty${up.attempt > 1 ? `, attempt ${up.attempt} after a port race` : ''})`,
        );
        info.push(await memoryLine(stack, 'after up'));
      } catch (error) {
        stackError = error.message;
        log(`the shared stack did not start: ${stackError}`);
      }
    }
    const ctx = { short: options.short, stack, endpoints };
    for (const name of names) {
      const spec = RUNNERS[name];
      const n = ROWS.find((r) => r.name === name).n;
      const rowStarted = performance.now();
      log(`${n} ${name}`);
      let results;
      if (spec.stack && !endpoints) results = [{ error: `the shared stack did not start: ${stackError}` }];
      else {
        try {
          const r = await spec.run(ctx);
          results = Array.isArray(r) ? r : [r];
        } catch (error) {
          results = [{ error: error.message.split('\n')[0] }];
        }
      }
      results.forEach((r, i) => {
        rows.push({
          figure: spec.figure,
          unit: spec.unit,
          target: spec.target,
          notes: [],
          ...r,
          n: i === 0 ? String(n) : `${n}${String.fromCharCode(97 + i)}`,
          name,
        });
      });
      log(
        `${n} ${name}: ${((performance.now() - rowStarted) / 1000).toFixed(1)} s${results.some((r) => r.error) ? ` (error: ${results.find((r) => r.error).error})` : ''}`,
      );
      if (name === 'sink-replay' && stack && endpoints) info.push(await memoryLine(stack, 'after the data rows'));
    }
  } finally {
    if (stack) await stack.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  info.push(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  const report = { startedAt, seconds, options: { short: options.short, only: options.only ? [...options.only] : null }, machine: mach, rows, info };

  process.stdout.write(
    `\n${renderTable(rows)}\n\n${info.join('\n')}\n\n${renderNotes(rows)}\n\nharness: ${seconds.toFixed(0)} s${options.short ? ' (--short)' : ''}\n`,
  );
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.markdown) await writeFile(options.markdown, renderMarkdown(report));
  return 0;
}

// Ctrl-C: stop the stacks this run started (down --volumes), then exit as interrupted.
process.once('SIGINT', async () => {
  log('interrupted: stopping the stacks this run started');
  await Promise.all([...liveStacks].map((s) => s.destroy()));
  process.exit(130);
});

process.exitCode = await main();
