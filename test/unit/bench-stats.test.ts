import { describe, expect, it } from 'vitest';
import { parseArgs, selectRows, UsageError } from '../../bench/lib/args.mjs';
import { criticalPath, durationMs, fromHyperfine, mergeRuns, parseUpProgress, refreshInterval } from '../../bench/lib/parse.mjs';
import { median, percentile, ratio, summarize } from '../../bench/lib/stats.mjs';

describe('bench statistics', () => {
  it('takes the median of odd and even counts and ignores non-numbers', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(median([1, Number.NaN, 3])).toBe(2);
  });

  it('uses nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 0)).toBe(1);
  });

  it('summarizes with or without percentiles', () => {
    expect(summarize([5, 1, 9, 3])).toMatchObject({ n: 4, median: 4, p95: 9, p99: 9, min: 1, max: 9, mean: 4.5 });
    expect(summarize([5, 1], { percentiles: false })).toMatchObject({ p95: null, p99: null, min: 1, max: 5 });
    expect(summarize([]).median).toBeNull();
  });

  it('divides only real numbers', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
  });
});

describe('bench arguments', () => {
  it('reads the flags the issue names', () => {
    expect(parseArgs(['--short', '--only', 'tail,5', '--json', 'out.json'])).toEqual({
      short: true,
      only: new Set(['tail', 'drain']),
      json: 'out.json',
      markdown: null,
      fromJson: null,
      help: false,
    });
    expect(parseArgs(['--only', 'help', '--only', 'status']).only).toEqual(new Set(['help', 'status']));
    expect(parseArgs(['--from-json', 'r.json', '--markdown', 'B.md'])).toMatchObject({ fromJson: 'r.json', markdown: 'B.md' });
  });

  it('refuses unknown flags and rows in one sentence', () => {
    expect(() => parseArgs(['--fast'])).toThrow(UsageError);
    expect(() => parseArgs(['--only', 'nope'])).toThrow(/Unknown benchmark "nope"/);
  });

  it('leaves the fresh-machine row out of --short unless named', () => {
    expect(selectRows({ short: true, only: null })).not.toContain('up-fresh');
    expect(selectRows({ short: false, only: null })).toContain('up-fresh');
    expect(selectRows({ short: true, only: new Set(['up-fresh']) })).toEqual(['up-fresh']);
    // Commands before the data rows, `up` after them.
    const order = selectRows({ short: false, only: null });
    expect(order.indexOf('status')).toBeLessThan(order.indexOf('drain'));
    expect(order.indexOf('drain')).toBeLessThan(order.indexOf('up-warm'));
  });
});

describe('bench parsing', () => {
  const stderr = [
    'plan: postgres → migrate → kafka',
    '✔ postgres ready (0.4s)',
    '▸ start kafka',
    '✔ kafka ready (16.0s)',
    '✔ connect ready (11.4s)',
    '✔ register-source done (5.1s)',
    '✖ start sink failed',
  ].join('\n');

  it("reads each step's own time from up's progress", () => {
    expect(parseUpProgress(stderr)).toEqual([
      { name: 'postgres', seconds: 0.4 },
      { name: 'kafka', seconds: 16 },
      { name: 'connect', seconds: 11.4 },
      { name: 'register-source', seconds: 5.1 },
    ]);
    const path = criticalPath(parseUpProgress(stderr));
    expect(path.seconds).toBeCloseTo(32.5);
    expect(path.missing).toEqual(['sink']);
  });

  it("merges hyperfine's runs of several rounds", () => {
    const a = fromHyperfine({ command: 'x', times: [0.1, 0.2], user: 0.05, system: 0.01, exit_codes: [0, 0] });
    const b = fromHyperfine({ command: 'x', times: [0.3, 0.4], user: 0.07, system: 0.01, exit_codes: [0, 1] });
    const merged = mergeRuns([a, b]);
    expect(merged.wall.median).toBeCloseTo(250);
    expect(merged.cpu?.median).toBeCloseTo(70);
    expect(merged.failedRuns).toBe(1);
    expect(merged.exitCode).toBe(1);
  });

  it('reads the refresh interval in force', () => {
    expect(durationMs('1s')).toBe(1000);
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('-1')).toBeNull();
    expect(refreshInterval({ 'parcel.outbox': { defaults: { index: { refresh_interval: '1s' } } } })).toEqual({ text: '1s', ms: 1000, source: 'default' });
    expect(refreshInterval({ i: { settings: { index: { refresh_interval: '500ms' } }, defaults: { index: { refresh_interval: '1s' } } } })?.ms).toBe(500);
    expect(refreshInterval({})).toBeNull();
  });
});
