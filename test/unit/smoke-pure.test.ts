import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { type SmokeContext, type SmokeStep, StepFailure } from '../../src/smoke/context.js';
import { connectorProblem, externalConnectorsClause } from '../../src/smoke/diagnose.js';
import { checkReportFile, leftBehind, renderJunit, reportFormat, type SmokeReport, writeReport } from '../../src/smoke/report.js';
import { runSteps } from '../../src/smoke/run.js';
import { tokenFix } from '../../src/smoke/steps.js';

const step = (name: string, run: SmokeStep['run']): SmokeStep => ({ name, title: `the ${name} step`, run });
const context = (overrides: Partial<SmokeContext> = {}) =>
  ({ signal: new AbortController().signal, deadline: Date.now() + 60_000, ...overrides }) as SmokeContext;
const ctx = context();

function report(steps: SmokeReport['steps'], overrides: Partial<SmokeReport> = {}): SmokeReport {
  return {
    schemaVersion: 2,
    stack: 'default',
    context: null,
    startedAt: '2026-11-26T10:00:00.000Z',
    seconds: 3.5,
    passed: steps.every((s) => s.status === 'passed'),
    steps,
    parcelId: 'p-1',
    eventIds: [],
    documents: [],
    stoppedAfter: [],
    ...overrides,
  };
}

describe('smoke runner', () => {
  it('runs steps in order, and after a failure skips the rest naming the failed step', async () => {
    const ran: string[] = [];
    const results = await runSteps(
      [
        step('one', async () => {
          ran.push('one');
          return 'fine';
        }),
        step('two', async () => {
          ran.push('two');
          throw new StepFailure('0 of 2 records after 1.0 s.', 'timeout');
        }),
        step('three', async () => {
          ran.push('three');
          return 'never';
        }),
      ],
      ctx,
    );
    expect(ran).toEqual(['one', 'two']);
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['one', 'passed'],
      ['two', 'failed'],
      ['three', 'skipped'],
    ]);
    expect(results[1]).toMatchObject({ message: '0 of 2 records after 1.0 s.', failure: 'timeout' });
    expect(results[2]!.message).toBe('not run: two failed.');
    expect(results[0]!.seconds).toBeGreaterThanOrEqual(0);
  });

  it('a step that would start after the deadline fails as a timeout naming the step that used the time', async () => {
    const deadline = Date.now() + 50;
    const results = await runSteps(
      [
        step('slow', async () => {
          await new Promise((r) => setTimeout(r, 80));
          return 'done late';
        }),
        step('next', async () => 'never'),
        step('last', async () => 'never'),
      ],
      context({ deadline }),
    );
    expect(results.map((r) => r.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(results[1]).toMatchObject({ failure: 'timeout' });
    expect(results[1]!.message).toMatch(/^not started: the run's --timeout ran out \(slow took 0\.\d s\)\.$/);
  });

  it('after an interrupt the steps not yet run are skipped as interrupted', async () => {
    const controller = new AbortController();
    const results = await runSteps(
      [
        step('one', async () => {
          controller.abort();
          return 'ok';
        }),
        step('two', async () => 'never'),
      ],
      context({ signal: controller.signal }),
    );
    expect(results.map((r) => [r.status, r.message])).toEqual([
      ['passed', 'ok'],
      ['skipped', 'not run: interrupted.'],
    ]);
  });

  it('turns an unexpected error into a failure of that step, not a crash', async () => {
    const results = await runSteps(
      [
        step('boom', async () => {
          throw new TypeError('x is undefined');
        }),
      ],
      ctx,
    );
    expect(results[0]).toMatchObject({ status: 'failed', failure: 'error', message: 'unexpected error: x is undefined.' });
  });
});

describe('smoke reports', () => {
  it('JUnit XML: one testcase per step, with failure and skipped elements and the counts', async () => {
    const xml = await renderJunit(
      report([
        { name: 'stack', title: 'stack', status: 'passed', seconds: 1.25, message: 'using "default" <running> & ready' },
        {
          name: 'kafka-records',
          title: 'records',
          status: 'failed',
          seconds: 30,
          message: 'connector parcel-outbox-source is PAUSED\u0007',
          failure: 'timeout',
        },
        { name: 'auditing-stats', title: 'stats', status: 'skipped', seconds: 0, message: 'not run: kafka-records failed.' },
      ]),
    );
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(xml);
    const suite = parsed.testsuites.testsuite;
    expect(suite).toMatchObject({ tests: '3', failures: '1', skipped: '1', errors: '0', time: '3.500' });
    expect(parsed.testsuites).toMatchObject({ tests: '3', failures: '1', errors: '0', skipped: '1' });
    expect(suite.testcase.map((t: { name: string }) => t.name)).toEqual(['stack', 'kafka-records', 'auditing-stats']);
    expect(suite.testcase[0]['system-out']).toContain('using "default" <running> & ready');
    expect(suite.testcase[1].failure).toMatchObject({ type: 'timeout', message: 'connector parcel-outbox-source is PAUSED\uFFFD' });
    expect(suite.testcase[1].time).toBe('30.000');
    expect(suite.testcase[2].skipped.message).toBe('not run: kafka-records failed.');
  });

  it('what could not run at all is a JUnit <error>, a check that did not hold a <failure>', async () => {
    const xml = await renderJunit(
      report([{ name: 'create-parcel', title: 'create', status: 'failed', seconds: 0.1, message: 'Cannot reach the tracking server.', failure: 'error' }]),
    );
    const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(xml).testsuites.testsuite;
    expect(suite).toMatchObject({ failures: '0', errors: '1' });
    expect(suite.testcase[0].error.message).toBe('Cannot reach the tracking server.');
    expect(suite.testcase[0].failure).toBeUndefined();
  });

  it('a report directory that does not exist is refused before the run', async () => {
    await expect(checkReportFile('/nonexistent-dir/smoke.xml')).rejects.toThrow(
      'Cannot write the report /nonexistent-dir/smoke.xml: its directory /nonexistent-dir does not exist.',
    );
    await expect(checkReportFile(path.join(os.tmpdir(), 'smoke.json'))).resolves.toBeUndefined();
  });

  it('the format comes from the extension; anything else is a usage error', () => {
    expect(reportFormat('out/smoke.json')).toBe('json');
    expect(reportFormat('junit.XML')).toBe('junit');
    expect(() => reportFormat('smoke.txt')).toThrow(/must end in \.json .* or \.xml/);
  });

  it('under a context the JUnit properties name the context, the parcel, its events and documents, and no stack', async () => {
    const xml = await renderJunit(
      report([{ name: 'stack', title: 'stack', status: 'passed', seconds: 1, message: 'external pipeline' }], {
        stack: null,
        context: 'staging',
        eventIds: ['e-1', 'e-2'],
        documents: [
          { index: 'parcel.outbox', id: 'e-1' },
          { index: 'parcels', id: 'p-1' },
        ],
      }),
    );
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'property' }).parse(xml);
    const properties = Object.fromEntries((parsed.testsuites.testsuite.properties.property as { name: string; value: string }[]).map((p) => [p.name, p.value]));
    expect(properties).toEqual({ context: 'staging', parcelId: 'p-1', eventIds: 'e-1,e-2', documents: 'parcel.outbox/e-1,parcels/p-1' });
  });

  it('names what the run left behind, and nothing when it wrote no parcel', () => {
    expect(
      leftBehind({
        parcelId: 'p-1',
        eventIds: ['e-1', 'e-2'],
        documents: [
          { index: 'parcel.outbox', id: 'e-1' },
          { index: 'parcels', id: 'p-1' },
        ],
      }),
    ).toBe('left behind: parcel p-1 (its row); events e-1, e-2 on parcel.outbox; documents parcel.outbox/e-1, parcels/p-1.');
    expect(leftBehind({ parcelId: 'p-1', eventIds: [], documents: [] })).toBe('left behind: parcel p-1 (its row).');
    expect(leftBehind({ parcelId: null, eventIds: [], documents: [] })).toBeUndefined();
  });

  it('writes the report whole, leaving no temporary file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'smoke-report-'));
    const file = path.join(dir, 'smoke.json');
    await writeReport(file, report([{ name: 'stack', title: 'stack', status: 'passed', seconds: 1, message: 'ok' }]));
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ passed: true, steps: [{ name: 'stack' }] });
    expect(await readdir(dir)).toEqual(['smoke.json']);
  });
});

describe('smoke diagnosis of a connector', () => {
  const status = (connector: string, tasks: { state: string; trace?: string }[], trace?: string) => ({
    name: 'src',
    connector: { state: connector, worker_id: 'w', trace },
    tasks: tasks.map((t, id) => ({ id, worker_id: 'w', ...t })),
  });
  it('names what keeps records from moving, and the command that fixes it', () => {
    expect(connectorProblem('src', undefined)).toBe('connector src is not registered (`outboxctl up` registers it)');
    expect(connectorProblem('src', status('PAUSED', [{ state: 'PAUSED' }]))).toBe('connector src is PAUSED; resume it with `outboxctl connectors resume src`');
    expect(
      connectorProblem(
        'src',
        status('RUNNING', [
          { state: 'FAILED', trace: 'org.x.ConnectException: boom\n\tat a\nCaused by: org.postgresql.util.PSQLException: replication slot is active' },
        ]),
      ),
    ).toBe('connector src is FAILED (org.postgresql.util.PSQLException: replication slot is active); see `outboxctl connectors status src`');
    expect(connectorProblem('src', status('RUNNING', []))).toBe('connector src has no task');
    expect(connectorProblem('src', status('RUNNING', [{ state: 'UNASSIGNED' }]))).toBe('task 0 of connector src is UNASSIGNED');
    expect(connectorProblem('src', status('RUNNING', [{ state: 'RUNNING' }]))).toBeUndefined();
  });
});

describe('smoke diagnosis of a deployed pipeline (its Connect, no local state)', () => {
  const running = (name: string, type: string) => ({
    name,
    type,
    connector: { state: 'RUNNING', worker_id: 'w' },
    tasks: [{ id: 0, state: 'RUNNING', worker_id: 'w' }],
  });
  const info = (name: string, type: string, config: Record<string, string> = {}) => ({ name, type, config, tasks: [] });
  const url = 'https://connect.example:8083';

  it('names the source connector that is not RUNNING, or says they all run', () => {
    const paused = { ...running('pg-source', 'source'), connector: { state: 'PAUSED', worker_id: 'w' } };
    expect(externalConnectorsClause({ 'pg-source': { status: paused, info: info('pg-source', 'source') } }, 'source', url)).toBe(
      'connector pg-source is PAUSED; resume it with `outboxctl connectors resume pg-source`',
    );
    expect(externalConnectorsClause({ 'pg-source': { status: running('pg-source', 'source'), info: info('pg-source', 'source') } }, 'source', url)).toBe(
      `the source connector pg-source on Kafka Connect at ${url} is RUNNING`,
    );
    expect(externalConnectorsClause({}, 'source', url)).toBe(`Kafka Connect at ${url} runs no source connector`);
  });

  it('looks only at sink connectors that read parcel.outbox (by topics or topics.regex)', () => {
    const connectors = {
      other: { status: { ...running('other', 'sink'), connector: { state: 'FAILED', worker_id: 'w' } }, info: info('other', 'sink', { topics: 'orders' }) },
      es: { status: running('es', 'sink'), info: info('es', 'sink', { 'topics.regex': 'parcel\\..*' }) },
    };
    expect(externalConnectorsClause(connectors, 'sink', url)).toBe(`the sink connector es on Kafka Connect at ${url} is RUNNING`);
    expect(externalConnectorsClause({ other: connectors.other }, 'sink', url)).toBe(
      `no sink connector on Kafka Connect at ${url} reads parcel.outbox (a sink outside Connect writes the search engine: see its logs)`,
    );
  });
});

describe('smoke: what to do about a refused token', () => {
  const base = { paths: { name: 'default' } as SmokeContext['paths'], env: {} };
  it('names where the token came from and how to fix it', () => {
    expect(tokenFix({ ...base, external: { context: 'staging' } }, 'auditing')).toBe(
      'give context "staging" the auditing server\'s token (`outboxctl context create staging --force … --auditing-token env:VAR`), or pass --token',
    );
    expect(tokenFix({ ...base, external: { context: 'staging' }, tokenFlag: 'x' }, 'tracking')).toBe(
      "the token given with --token is not the tracking server's; give that one (or leave --token out)",
    );
    expect(tokenFix({ ...base, env: { OUTBOXCTL_TOKEN: 'x' } }, 'auditing')).toMatch(/^the token given with OUTBOXCTL_TOKEN is not the auditing server's/);
    expect(tokenFix(base, 'auditing')).toMatch(/--token or OUTBOXCTL_TOKEN \(a stack started with `up --token` records it/);
  });
});
