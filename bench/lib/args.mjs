// Pure: the harness's command line. `npm run bench -- --short --only tail,drain --json out.json`.

import { parseArgs as parse } from 'node:util';

/** Row names in the order the harness runs them (commands first, heavy data rows after, then `up`). */
export const ROWS = [
  { n: 1, name: 'help' },
  { n: 2, name: 'status' },
  { n: 3, name: 'topic-list' },
  { n: 10, name: 'smoke' },
  { n: 7, name: 'latency' },
  { n: 4, name: 'tail' },
  { n: 5, name: 'drain' },
  { n: 11, name: 'sink-replay' },
  { n: 8, name: 'up-warm' },
  { n: 6, name: 'tracking' },
  { n: 9, name: 'up-fresh' },
];

export const USAGE = `Usage: npm run bench -- [--short] [--only NAME[,NAME…]] [--json FILE] [--markdown FILE]
  --short          the reduced run (CI): fewer runs, smaller sizes, no up-fresh
  --only NAMES     rows by name or number: ${ROWS.map((r) => `${r.n} ${r.name}`).join(', ')}
  --json FILE      also write the results as JSON
  --markdown FILE  also write a markdown report (machine, table, notes), e.g. BENCHMARKS.md
  --from-json FILE measure nothing: print (and with --markdown write) the report of an earlier --json FILE
Environment: BENCH_STACK_HOME=DIR measures the stack already up under that OUTBOXCTL_HOME and leaves it running
(for working on the harness; up-warm then restarts it).`;

export class UsageError extends Error {}

/** argv (after `node run.mjs`) → { short, only: Set of row names | null, json, markdown, help }. */
export function parseArgs(argv) {
  let values;
  try {
    ({ values } = parse({
      args: argv,
      options: {
        short: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        json: { type: 'string' },
        markdown: { type: 'string' },
        'from-json': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error.message}; see --help.`);
  }
  let only = null;
  if (values.only) {
    only = new Set();
    for (const item of values.only
      .flatMap((v) => v.split(','))
      .map((s) => s.trim())
      .filter(Boolean)) {
      const row = ROWS.find((r) => r.name === item || String(r.n) === item);
      if (!row) throw new UsageError(`Unknown benchmark "${item}"; pick one of ${ROWS.map((r) => r.name).join(', ')}.`);
      only.add(row.name);
    }
  }
  for (const key of ['json', 'markdown', 'from-json']) {
    if (values[key] === '') throw new UsageError(`--${key} needs a file name.`);
  }
  return { short: values.short, only, json: values.json ?? null, markdown: values.markdown ?? null, fromJson: values['from-json'] ?? null, help: values.help };
}

/** The rows to run, in run order; up-fresh only in the full run unless asked for by name. */
export function selectRows(options) {
  return ROWS.filter((r) => (options.only ? options.only.has(r.name) : !(options.short && r.name === 'up-fresh'))).map((r) => r.name);
}
