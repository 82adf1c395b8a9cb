import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMOKE_STEPS } from '../../src/smoke/steps.js';
import { BIN, ROOT } from '../helpers/cli.js';

/**
 * `outboxctl smoke` on the real stack: it passes from nothing (and stops what it started),
 * passes on a running stack (and stops nothing), and names the step that cannot pass when
 * the source connector is paused or the sink is stopped.
 */
let home: string;
const outboxctl = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT });
const stepNames = SMOKE_STEPS.map((s) => s.name);

interface Testcase {
  name: string;
  time: string;
  failure?: { message: string; type: string };
  skipped?: { message: string };
}

async function junit(file: string): Promise<{ tests: string; failures: string; skipped: string; testcase: Testcase[] }> {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(
    await readFile(file, 'utf8'),
  );
  return parsed.testsuites.testsuite;
}

async function serviceStates(): Promise<Record<string, string>> {
  const r = await outboxctl(['status', '--json']);
  return Object.fromEntries((JSON.parse(r.stdout) as { services: { name: string; state: string }[] }).services.map((s) => [s.name, s.state]));
}

describe('outboxctl smoke on the real stack', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-smoke-'));
  });
  afterAll(async () => {
    await outboxctl(['connectors', 'resume', 'parcel-outbox-source']);
    await outboxctl(['down', '--volumes']);
  });

  it('passes from nothing on the native runtime, its JUnit report has one testcase per step, and it stops what it started', async () => {
    const file = path.join(home, 'smoke.xml');
    const r = await outboxctl(['smoke', '--runtime', 'native', '--report', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const [i, name] of stepNames.entries()) expect(r.stderr).toMatch(new RegExp(`✔ \\[${i + 1}/8\\] ${name} +\\d+\\.\\d+s`));
    expect(r.stdout).toMatch(/^smoke passed: 8 steps in/);
    expect(r.stderr).toMatch(/started 7 services of stack "default"/);
    const suite = await junit(file);
    expect(suite).toMatchObject({ tests: '8', failures: '0', skipped: '0' });
    expect(suite.testcase.map((t) => t.name)).toEqual(stepNames);
    for (const t of suite.testcase) expect(Number(t.time)).toBeGreaterThanOrEqual(0);
    expect(Object.values(await serviceStates()).every((s) => s === 'stopped')).toBe(true);
    expect(r.stderr).toMatch(/stopping what smoke started: postgres, kafka, elasticsearch, connect, sink, tracking, auditing/);
  }, 400_000);

  it('on a running stack it uses it as it is, reports JSON, and stops nothing', async () => {
    expect((await outboxctl(['up'])).exitCode).toBe(0);
    const file = path.join(home, 'smoke.json');
    const r = await outboxctl(['smoke', '--json', '--report', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as {
      passed: boolean;
      steps: { name: string; status: string }[];
      stoppedAfter: string[];
      parcelId: string;
      eventIds: string[];
    };
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(printed);
    expect(printed.passed).toBe(true);
    expect(printed.steps.map((s) => [s.name, s.status])).toEqual(stepNames.map((n) => [n, 'passed']));
    expect(printed.stoppedAfter).toEqual([]);
    // The stats step compared with the counts at the start: exactly this run's two events and parcel.
    expect(r.stderr).toMatch(/auditing-stats .*since the start: ParcelCreated \+1, ParcelUpdated \+1, in_transit \+1/);
    expect(printed.eventIds).toHaveLength(2);
    // The event documents it checked are there to see.
    const history = await outboxctl(['audit', 'history', printed.parcelId, '--json']);
    expect((JSON.parse(history.stdout) as { events: { eventId: string }[] }).events.map((e) => e.eventId)).toEqual(printed.eventIds);
    expect(Object.values(await serviceStates()).every((s) => s === 'ready')).toBe(true);
  }, 300_000);

  it('with parcel-outbox-source paused it exits 1 naming the Kafka step that timed out, and why', async () => {
    expect((await outboxctl(['connectors', 'pause', 'parcel-outbox-source'])).exitCode).toBe(0);
    try {
      const file = path.join(home, 'paused.xml');
      const r = await outboxctl(['smoke', '--timeout', '20s', '--report', file]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/✖ \[4\/8\] kafka-records .*0 of 2 records keyed .* reached parcel\.outbox after .*connector parcel-outbox-source is PAUSED/);
      expect(r.stdout).toMatch(/^smoke failed at kafka-records after/);
      const suite = await junit(file);
      expect(suite).toMatchObject({ tests: '8', failures: '1', skipped: '4' });
      const failed = suite.testcase.find((t) => t.failure)!;
      expect(failed.name).toBe('kafka-records');
      expect(failed.failure!.type).toBe('timeout');
      expect(suite.testcase.filter((t) => t.skipped).map((t) => t.name)).toEqual(stepNames.slice(4));

      // Ctrl-C while it waits: exit 130, and the report still says where it stopped.
      const interrupted = path.join(home, 'interrupted.json');
      const run = execa(BIN, ['smoke', '--report', interrupted], { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT });
      await new Promise<void>((resolve) => {
        let seen = '';
        run.stderr!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes('update-parcel')) resolve();
        });
      });
      run.kill('SIGINT');
      const ended = await run;
      expect(ended.exitCode).toBe(130);
      const report = JSON.parse(await readFile(interrupted, 'utf8')) as { steps: { name: string; status: string; message: string }[] };
      expect(report.steps[3]).toMatchObject({ name: 'kafka-records', status: 'failed', message: 'interrupted.' });
      expect(report.steps.slice(4).every((s) => s.status === 'skipped')).toBe(true);
    } finally {
      expect((await outboxctl(['connectors', 'resume', 'parcel-outbox-source'])).exitCode).toBe(0);
    }
  }, 120_000);

  it('with the sink stopped it names the Elasticsearch step, and passes again once the sink is back', async () => {
    expect((await outboxctl(['stop', 'sink'])).exitCode).toBe(0);
    const r = await outboxctl(['smoke', '--timeout', '20s']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/warning: stack "default" runs without sink \(stopped\)/);
    expect(r.stderr).toMatch(/✔ \[4\/8\] kafka-records/);
    expect(r.stderr).toMatch(
      /✖ \[5\/8\] elasticsearch-events .*0 of 2 event documents in index parcel\.outbox .*the embedded sink \(service sink\) is stopped/,
    );
    expect(r.stdout).toMatch(/^smoke failed at elasticsearch-events/);
    expect((await outboxctl(['up'])).exitCode).toBe(0);
    const again = await outboxctl(['smoke', '--timeout', '60s']);
    expect(again.exitCode, again.stderr).toBe(0);
  }, 180_000);
});
