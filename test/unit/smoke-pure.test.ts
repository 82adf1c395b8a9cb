import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { StepFailure, type SmokeContext, type SmokeStep } from '../../src/smoke/context.js';
import { renderJunit, reportFormat, writeReport, type SmokeReport } from '../../src/smoke/report.js';
import { runSteps } from '../../src/smoke/run.js';

const step = (name: string, run: SmokeStep['run']): SmokeStep => ({ name, title: `the ${name} step`, run });
const ctx = {} as SmokeContext;

function report(steps: SmokeReport['steps']): SmokeReport {
  return { schemaVersion: 1, stack: 'default', startedAt: '2026-11-26T10:00:00.000Z', seconds: 3.5, passed: steps.every((s) => s.status === 'passed'), steps, parcelId: 'p-1', eventIds: [], stoppedAfter: [] };
}

describe('smoke runner', () => {
  it('runs steps in order, and after a failure skips the rest naming the failed step', async () => {
    const ran: string[] = [];
    const results = await runSteps(
      [
        step('one', async () => (ran.push('one'), 'fine')),
        step('two', async () => {
          ran.push('two');
          throw new StepFailure('0 of 2 records after 1.0 s.', 'timeout');
        }),
        step('three', async () => (ran.push('three'), 'never')),
      ],
      ctx,
    );
    expect(ran).toEqual(['one', 'two']);
    expect(results.map((r) => [r.name, r.status])).toEqual([['one', 'passed'], ['two', 'failed'], ['three', 'skipped']]);
    expect(results[1]).toMatchObject({ message: '0 of 2 records after 1.0 s.', failure: 'timeout' });
    expect(results[2]!.message).toBe('not run: two failed.');
    expect(results[0]!.seconds).toBeGreaterThanOrEqual(0);
  });

  it('turns an unexpected error into a failure of that step, not a crash', async () => {
    const results = await runSteps([step('boom', async () => { throw new TypeError('x is undefined'); })], ctx);
    expect(results[0]).toMatchObject({ status: 'failed', failure: 'error', message: 'unexpected error: x is undefined.' });
  });
});

describe('smoke reports', () => {
  it('JUnit XML: one testcase per step, with failure and skipped elements and the counts', async () => {
    const xml = await renderJunit(
      report([
        { name: 'stack', title: 'stack', status: 'passed', seconds: 1.25, message: 'using "default" <running> & ready' },
        { name: 'kafka-records', title: 'records', status: 'failed', seconds: 30, message: 'connector parcel-outbox-source is PAUSED\u0007', failure: 'timeout' },
        { name: 'auditing-stats', title: 'stats', status: 'skipped', seconds: 0, message: 'not run: kafka-records failed.' },
      ]),
    );
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(xml);
    const suite = parsed.testsuites.testsuite;
    expect(suite).toMatchObject({ tests: '3', failures: '1', skipped: '1', errors: '0', time: '3.500' });
    expect(suite.testcase.map((t: { name: string }) => t.name)).toEqual(['stack', 'kafka-records', 'auditing-stats']);
    expect(suite.testcase[0]['system-out']).toContain('using "default" <running> & ready');
    expect(suite.testcase[1].failure).toMatchObject({ type: 'timeout', message: 'connector parcel-outbox-source is PAUSED\uFFFD' });
    expect(suite.testcase[1].time).toBe('30.000');
    expect(suite.testcase[2].skipped.message).toBe('not run: kafka-records failed.');
  });

  it('the format comes from the extension; anything else is a usage error', () => {
    expect(reportFormat('out/smoke.json')).toBe('json');
    expect(reportFormat('junit.XML')).toBe('junit');
    expect(() => reportFormat('smoke.txt')).toThrow(/must end in \.json .* or \.xml/);
  });

  it('writes the report whole, leaving no temporary file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'smoke-report-'));
    const file = path.join(dir, 'smoke.json');
    await writeReport(file, report([{ name: 'stack', title: 'stack', status: 'passed', seconds: 1, message: 'ok' }]));
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ passed: true, steps: [{ name: 'stack' }] });
    expect(await readdir(dir)).toEqual(['smoke.json']);
  });
});
