// Side effects shared by the rows: hyperfine, timed processes, and one outboxctl stack.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { fromHyperfine, mergeRuns } from './parse.mjs';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = path.join(root, 'bin/outboxctl');
export const log = (message) => process.stderr.write(`bench: ${message}\n`);
export const now = () => performance.now();

/**
 * hyperfine over `commands` ({ name, command } with -N, no shell), `rounds` times, `runs` each time, so
 * the commands alternate round by round; returns each command's merged runs by name.
 */
export async function hyperfine(commands, { runs, rounds = 1, warmup = 0, env = process.env, cwd = root }) {
  const parts = Object.fromEntries(commands.map((c) => [c.name, []]));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-hyperfine-'));
  try {
    for (let round = 0; round < rounds; round++) {
      const file = path.join(dir, `round-${round}.json`);
      const args = ['-N', '-i', '--style', 'none', '--runs', String(runs), '--warmup', String(round === 0 ? warmup : 0), '--export-json', file];
      for (const c of commands) args.push('-n', c.name, c.command);
      const r = await execa('hyperfine', args, { env, cwd, reject: false, stdin: 'ignore' });
      if (r.exitCode !== 0) throw new Error(`hyperfine failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
      const { results } = JSON.parse(await readFile(file, 'utf8'));
      for (const [i, result] of results.entries()) parts[commands[i].name].push(fromHyperfine(result));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(Object.entries(parts).map(([name, p]) => [name, mergeRuns(p)]));
}

/** One process, timed: wall seconds from spawn to exit, its output, its exit code (never throws on a failure). */
export async function timed(file, args, options = {}) {
  const started = now();
  const r = await execa(file, args, { reject: false, stdin: 'ignore', ...options });
  return { seconds: (now() - started) / 1000, exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '', failed: r.failed, message: r.message };
}

const lastLines = (text, n = 3) => String(text).trim().split('\n').slice(-n).join(' / ');
// Other stacks on this machine take ports between `up`'s choice and the service's bind: `up` says so and stops that service.
const portRace = (stderr) => /was taken by another process/.test(stderr);

/** Stacks this run started and has not destroyed yet: an interrupted run stops them (see run.mjs). */
export const liveStacks = new Set();

/** One outboxctl stack under its own OUTBOXCTL_HOME (and, for a fresh machine, its own caches). */
export class Stack {
  /** A stack that is already up under `home` (BENCH_STACK_HOME, for working on the harness): used as it is, never stopped. */
  static existing(home) {
    const stack = new Stack(home, {});
    stack.external = true;
    return stack;
  }

  static async create(label, extraEnv = {}) {
    const home = await mkdtemp(path.join(os.tmpdir(), `outboxctl-bench-${label}-`));
    return new Stack(home, extraEnv);
  }

  constructor(home, extraEnv) {
    this.home = home;
    this.env = { ...process.env, OUTBOXCTL_HOME: home, OUTBOXCTL_CONTEXT: 'local', NO_COLOR: '1', ...extraEnv };
    this.started = false;
  }

  run(args, options = {}) {
    return timed(bin, args, { env: this.env, ...options });
  }

  /**
   * `up`, again after a port race (up to 3 attempts); the time is that of the attempt that succeeded.
   * The readiness wait is 600 s, not 180 s: on a shared, loaded machine Elasticsearch alone has taken over 3 minutes.
   */
  async up(args = ['--wait-timeout', '600s'], { attempts = 3 } = {}) {
    this.started = !this.external;
    if (this.started) liveStacks.add(this);
    let last;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      last = await this.run(['up', ...args]);
      if (last.exitCode === 0) return { ...last, attempt };
      if (!portRace(last.stderr)) break;
      log(`up: a port was taken by another process meanwhile; again (attempt ${attempt + 1})`);
    }
    throw new Error(`outboxctl up failed (exit ${last.exitCode}): ${lastLines(last.stderr)}`);
  }

  async down(volumes = false) {
    const r = await this.run(['down', ...(volumes ? ['--volumes'] : [])]);
    if (r.exitCode !== 0) throw new Error(`outboxctl down failed (exit ${r.exitCode}): ${lastLines(r.stderr)}`);
    return r;
  }

  async endpoints() {
    const state = JSON.parse(await readFile(path.join(this.home, 'stacks', 'default', 'state.json'), 'utf8'));
    return state.endpoints;
  }

  async status() {
    const r = await this.run(['status', '--json']);
    return JSON.parse(r.stdout);
  }

  /** `down --volumes` and the home removed; never throws (it runs in a finally). */
  async destroy() {
    if (this.external) return;
    liveStacks.delete(this);
    if (this.started) await this.run(['down', '--volumes']).catch(() => undefined);
    await rm(this.home, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}

/** JSON over HTTP to the search engine (or any JSON API); throws with the status on a non-2xx. */
export async function http(url, { method = 'GET', body, ndjson = false } = {}) {
  const r = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : ndjson ? body : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${new URL(url).pathname} → HTTP ${r.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

/** Documents in an index that search sees now (refreshed), or 0 when the index does not exist yet. */
export async function searchableCount(es, index) {
  const r = await fetch(`${es}/${encodeURIComponent(index)}/_count`);
  if (r.status === 404) return 0;
  if (!r.ok) throw new Error(`GET ${index}/_count → HTTP ${r.status}`);
  return (await r.json()).count;
}
