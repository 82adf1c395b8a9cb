// Pure: what the harness reads from other tools' output.

import { summarize } from './stats.mjs';

/**
 * `outboxctl up`'s progress on stderr → each step's own time, in order: lines such as
 * `✔ kafka ready (16.0s)` and `✔ register-source done (5.1s)`.
 */
export function parseUpProgress(stderr) {
  const steps = [];
  for (const line of String(stderr).split('\n')) {
    const m = /^\s*✔\s+(\S+)\s+(?:ready|done)\s+\((\d+(?:\.\d+)?)\s*(ms|s)\)/.exec(line);
    if (m) steps.push({ name: m[1], seconds: Number(m[2]) / (m[3] === 'ms' ? 1000 : 1) });
  }
  return steps;
}

/** The plan's critical path to a working pipeline, as `up` runs it today: Kafka → Connect → register-source → sink. */
export const CRITICAL_PATH = ['kafka', 'connect', 'register-source', 'sink'];

/** The critical path's steps found in `up`'s progress and their sum; `missing` names those not found. */
export function criticalPath(steps, path = CRITICAL_PATH) {
  const found = path.map((name) => steps.find((s) => s.name === name)).filter(Boolean);
  return {
    steps: found,
    seconds: found.reduce((sum, s) => sum + s.seconds, 0),
    missing: path.filter((name) => !steps.some((s) => s.name === name)),
  };
}

/**
 * One command of hyperfine's --export-json → wall times (every run) and CPU time (user + sys,
 * hyperfine gives their mean over the runs), both in milliseconds.
 */
export function fromHyperfine(result) {
  const times = (result.times ?? []).map((t) => t * 1000);
  const cpuMean = typeof result.user === 'number' && typeof result.system === 'number' ? (result.user + result.system) * 1000 : null;
  const failed = (result.exit_codes ?? []).filter((c) => c !== 0);
  return {
    command: result.command,
    times,
    cpuMean,
    failedRuns: failed.length,
    exitCode: failed[0] ?? 0,
  };
}

/** Runs of the same command from several hyperfine invocations (rounds) → one wall summary and the CPU mean weighted by runs. */
export function mergeRuns(parts) {
  const times = parts.flatMap((p) => p.times);
  const weighted = parts.filter((p) => typeof p.cpuMean === 'number');
  const runs = weighted.reduce((sum, p) => sum + p.times.length, 0);
  const cpuMean = runs > 0 ? weighted.reduce((sum, p) => sum + p.cpuMean * p.times.length, 0) / runs : null;
  return {
    times,
    wall: summarize(times),
    cpu: cpuMean === null ? null : { n: runs, median: cpuMean, mean: cpuMean, p95: null, p99: null, min: null, max: null },
    failedRuns: parts.reduce((sum, p) => sum + p.failedRuns, 0),
    exitCode: parts.find((p) => p.exitCode !== 0)?.exitCode ?? 0,
  };
}

/** `refresh_interval` as Elasticsearch writes it (`1s`, `500ms`, `-1`) → milliseconds; -1 (never) → null. */
export function durationMs(text) {
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(String(text).trim());
  if (!m) return null;
  const n = Number(m[1]);
  if (n < 0) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'];
  return n * unit;
}

/** The refresh interval in force from `GET INDEX/_settings?include_defaults=true`: the index's own, else the default. */
export function refreshInterval(settingsResponse) {
  const index = Object.values(settingsResponse ?? {})[0];
  const own = index?.settings?.index?.refresh_interval;
  const fallback = index?.defaults?.index?.refresh_interval;
  const text = own ?? fallback;
  return text === undefined ? null : { text, ms: durationMs(text), source: own !== undefined ? 'index setting' : 'default' };
}
