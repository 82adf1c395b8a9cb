import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debeziumSlotName } from '../../src/connectors/variables.js';
import { stackState } from '../helpers/state.js';
import { type Endpoints, evaluate, type Report, slotLagBytes, snapshot, waitCaughtUp, waitWritesIndexed } from './check.js';
import { Ledger } from './ledger.js';
import { startLoad } from './load.js';
import {
  type CliRun,
  endpointsOf,
  jvmPid,
  killHard,
  logTail,
  outboxctl,
  postmasterPid,
  processProblems,
  run,
  runVerify,
  services,
  stackProcesses,
} from './stack.js';

/**
 * Issue 15, part 2: faults injected into one running native stack, one at a time, under load.
 * Each scenario: load → fault (~4 s in) → `outboxctl up` → 5 s more load → stop → drain → checks
 * (ledger against kcat's view of the topic, both indices, PostgreSQL; the slot's lag; no service
 * running twice; `outboxctl verify` once it exists) → one line for the CI log.
 */

const LOAD_BEFORE_FAULT_MS = 4_000;
const LOAD_AFTER_UP_MS = 5_000;
const DRAIN_MS = 30_000;
const CAUGHT_UP_TIMEOUT_MS = 90_000;
const SLOT_LAG_LIMIT_BYTES = 1024 * 1024;
const SLOT_LAG_TIMEOUT_MS = 60_000;
/**
 * Issue 15's target: after a broker or sink crash the read model catches up within 20 s of the kill,
 * the up included. A time is a figure, not a verdict (tests never fail on a duration): the line says
 * whether the target was met. What fails is a stall: not caught up within three times the target
 * (the stall the issue found lasted 85 s), which no noisy machine explains.
 */
const CATCH_UP_TARGET_MS = 20_000;
const STALL_AFTER_MS = 3 * CATCH_UP_TARGET_MS;

let home: string;
let endpoints: Endpoints;
const runId = Date.now().toString(36);

/** What a scenario does after the fault: by default one `up`, which must exit 0. */
type Recover = () => Promise<{ problems: string[]; evidence?: string }>;

/**
 * One `up`, which must exit 0. A killed `up` can leave Kafka or Elasticsearch recorded with no
 * endpoint (it was killed during their readiness wait): the next `up` keeps the running engine and
 * must record its endpoint before it starts the services that need it, or they would fall back to
 * localhost:9092 / localhost:9200 (another stack's, on a shared machine). Checked after the up: the
 * endpoints are recorded and every running service's environment names the stack's own.
 */
async function upOnce(): Promise<{ problems: string[]; evidence?: string }> {
  const before = await stackState(home);
  const r = await run(home, ['up']);
  const problems = r.code === 0 ? [] : [`up exited ${r.code}`];
  const after = await stackState(home);
  const status = await services(home);
  for (const name of ['kafka', 'elasticsearch'] as const)
    if (status[name]?.pid && !after.endpoints[name]) problems.push(`after up, the state records ${name} (pid ${status[name]?.pid}) but no ${name} endpoint`);
  problems.push(...(await processProblems(home)).filter((p) => p.includes(' runs with ')));
  return {
    problems,
    evidence: problems.length ? `--- up\n${r.stderr.slice(-3_000)}\n--- endpoints before it: ${Object.keys(before.endpoints).join(', ')}` : undefined,
  };
}

/** Polls a URL until it answers 200. */
async function untilAnswers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(500);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

async function pidOf(service: string): Promise<number> {
  const pid = (await services(home))[service]?.pid;
  if (!pid) throw new Error(`status --json gives ${service} no pid`);
  return pid;
}

/** Polls the slot until its lag is under the limit; the last lag seen. */
async function settledSlotLag(): Promise<{ lagBytes: number | undefined; ok: boolean }> {
  const deadline = Date.now() + SLOT_LAG_TIMEOUT_MS;
  let lagBytes: number | undefined;
  for (;;) {
    lagBytes = await slotLagBytes(endpoints.database, debeziumSlotName('default')).catch(() => undefined);
    if (lagBytes !== undefined && lagBytes < SLOT_LAG_LIMIT_BYTES) return { lagBytes, ok: true };
    if (Date.now() > deadline) return { lagBytes, ok: false };
    await sleep(1_000);
  }
}

function reportProblems(report: Report, ledger: Ledger): string[] {
  const problems: string[] = [];
  const add = (what: string, f: { count: number; first: string[] }) => {
    if (f.count > 0) problems.push(`${f.count} ${what}, first: ${f.first.join('; ')}`);
  };
  add('missing', report.missing);
  add('extra', report.extra);
  add('missing from earlier scenarios', report.missingEarlier);
  add('order violations on the topic', report.orderViolations);
  add('stale or missing parcels documents', report.staleParcels);
  add('idempotency violations', report.idempotency);
  add('versions with two events', report.duplicateVersions);
  if (ledger.stats.unexpected.length > 0) problems.push(`unexpected answers: ${ledger.stats.unexpected.slice(0, 5).join('; ')}`);
  if (ledger.stats.abandoned > 0) problems.push(`${ledger.stats.abandoned} writes still unanswered at the drain deadline`);
  return problems;
}

/** The whole stack's totals as verify counted them, beside this scenario's own. */
function verifyCounts(doc: Record<string, unknown> | undefined): string {
  const stages = (doc?.stages ?? {}) as { outbox?: { rows?: number }; topic?: { records?: number; repeated?: number }; events?: { documents?: number } };
  return `(rows ${stages.outbox?.rows}, records ${stages.topic?.records}, repeated ${stages.topic?.repeated}, documents ${stages.events?.documents})`;
}

/** load → inject → recover (up) → more load → stop → drain → check → print; fails on any finding. */
function scenario(n: number, name: string, inject: () => Promise<void>, recover: Recover = upOnce, logsOf: string[] = [], catchUpTargetMs?: number): void {
  it(`fault ${n}: ${name}`, async () => {
    const problems: string[] = [];
    const evidence: string[] = [];
    const before = await processProblems(home);
    if (before.length > 0) {
      // A previous scenario left the stack broken: repair it, and say so, so this one still measures its own fault.
      problems.push(`stack not healthy before the fault: ${before.join('; ')}`);
      await run(home, ['down']);
      await run(home, ['up']);
    }
    const tag = `f${n}-${runId}`;
    const ledger = new Ledger();
    const load = startLoad({ trackingUrl: endpoints.tracking, tag, ledger });
    const begin = Date.now();
    let upReturnedAt = Date.now();
    let injectedAt = Date.now();
    let backlog: Promise<number | undefined> = Promise.resolve(undefined);
    try {
      await sleep(LOAD_BEFORE_FAULT_MS);
      await inject();
      injectedAt = Date.now();
      const recovered = await recover();
      upReturnedAt = Date.now();
      // The backlog: every write acknowledged until the up returned, indexed while the load goes on.
      backlog = waitWritesIndexed(endpoints, new Set(ledger.writes.keys()), CAUGHT_UP_TIMEOUT_MS);
      problems.push(...recovered.problems);
      if (recovered.evidence) evidence.push(recovered.evidence);
      await sleep(LOAD_AFTER_UP_MS);
    } finally {
      await load.stop(DRAIN_MS);
    }
    const loadSeconds = (Date.now() - begin) / 1000;

    // A sink started against a wrong engine never catches up: no point waiting for it.
    const miswired = (await processProblems(home)).some((p) => p.includes(' runs with '));
    const caughtUpAt = miswired ? undefined : await waitCaughtUp(endpoints, ledger, CAUGHT_UP_TIMEOUT_MS);
    const caughtUp = caughtUpAt === undefined ? `>${Math.round((Date.now() - upReturnedAt) / 1000)}` : ((caughtUpAt - upReturnedAt) / 1000).toFixed(1);
    // Beside it: how long the up took, and from the fault to caught up (the load goes on LOAD_AFTER_UP_MS after up).
    const backlogAt = await backlog;
    const backlogSeconds = backlogAt === undefined ? undefined : (backlogAt - injectedAt) / 1000;
    const target =
      catchUpTargetMs === undefined
        ? ''
        : `, target ${catchUpTargetMs / 1000} s ${backlogSeconds !== undefined && backlogSeconds * 1000 <= catchUpTargetMs ? 'met' : 'MISSED'}`;
    const timing = `up=${((upReturnedAt - injectedAt) / 1000).toFixed(1)}s backlog-indexed=${backlogSeconds?.toFixed(1) ?? '?'}s after the fault${target}`;
    if (catchUpTargetMs !== undefined && (backlogSeconds === undefined || backlogSeconds * 1000 > STALL_AFTER_MS))
      problems.push(
        `the writes acknowledged until up returned were indexed ${backlogSeconds?.toFixed(1) ?? 'never'} s after the fault: a stall (target ${catchUpTargetMs / 1000} s, stall past ${STALL_AFTER_MS / 1000} s)`,
      );
    const lag = await settledSlotLag();
    if (!lag.ok) problems.push(`replication slot lag ${lag.lagBytes ?? 'unknown'} bytes after ${SLOT_LAG_TIMEOUT_MS / 1000} s (limit 1 MiB)`);
    const report = evaluate(ledger, tag, await snapshot(endpoints));
    problems.push(...reportProblems(report, ledger));
    problems.push(...(await processProblems(home)));

    const verify = await runVerify(home);
    if (verify.code !== 0 || verify.doc?.consistent !== true) problems.push(`outboxctl verify: exit ${verify.code}, ${verify.raw ?? ''}`);
    const verified = `exit ${verify.code}, consistent=${verify.doc?.consistent} ${verifyCounts(verify.doc)}`;

    const s = ledger.stats;
    console.log(
      `fault ${n} ${name}: acked=${report.acked} records=${report.records} documents=${report.documents} missing=${report.missing.count} extra=${report.extra.count} caught-up=${caughtUp}s (${timing})`,
    );
    console.log(
      `  load ${loadSeconds.toFixed(1)} s: ${s.requests} requests (${s.creates} creates, ${s.updates} updates acknowledged), ${s.retries} retries, ` +
        `${s.ambiguousUpdates} updates committed without their answer, repeats on the topic ${report.repeated}, slot lag ${lag.lagBytes ?? '?'} B, ` +
        `failures ${JSON.stringify(s.failures)}; verify ${verified}`,
    );
    if (problems.length > 0) {
      for (const service of logsOf) evidence.push(`--- outboxctl logs ${service} --tail 40\n${await logTail(home, service)}`);
      console.log(`  problems:\n  - ${problems.join('\n  - ')}\n${evidence.join('\n')}`);
    }
    expect(problems).toEqual([]);
  });
}

describe('fault injection on one native stack under load (issue 15, part 2)', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-faults-'));
    const r = await run(home, ['up']);
    expect(r.code, r.stderr).toBe(0);
    endpoints = await endpointsOf(home);
  });
  afterAll(async () => {
    if (home) await run(home, ['down', '--volumes']);
  });

  scenario(1, 'kill -9 connect', async () => killHard(await jvmPid(await pidOf('connect'))), upOnce, ['connect']);

  scenario(2, 'kill -9 kafka', async () => killHard(await jvmPid(await pidOf('kafka'))), upOnce, ['kafka', 'connect', 'sink'], CATCH_UP_TARGET_MS);

  scenario(3, 'kill -9 elasticsearch', async () => killHard(await jvmPid(await pidOf('elasticsearch'))), upOnce, ['elasticsearch', 'sink']);

  scenario(4, 'kill -9 sink', async () => killHard(await pidOf('sink')), upOnce, ['sink'], CATCH_UP_TARGET_MS);

  scenario(5, 'kill -9 tracking', async () => killHard(await pidOf('tracking')), upOnce, ['tracking']);

  scenario(
    6,
    'restart postgres',
    async () => {
      const r = await run(home, ['restart', 'postgres']);
      if (r.code !== 0) throw new Error(`restart postgres exited ${r.code}: ${r.stderr.slice(-2_000)}`);
    },
    upOnce,
    ['postgres', 'connect', 'tracking'],
  );

  scenario(
    7,
    'kill -9 postgres (postmaster)',
    async () => {
      const recorded = await pidOf('postgres');
      const postmaster = await postmasterPid(home);
      if (postmaster !== recorded) throw new Error(`postmaster.pid says ${postmaster}, status --json ${recorded}`);
      await killHard(postmaster);
    },
    upOnce,
    ['postgres', 'connect', 'tracking'],
  );

  scenario(
    8,
    'kill -9 of up halfway through its plan',
    async () => {
      const stopped = await run(home, ['stop', 'kafka', 'elasticsearch', 'sink']);
      if (stopped.code !== 0) throw new Error(`stop kafka elasticsearch sink exited ${stopped.code}: ${stopped.stderr}`);
      const up = outboxctl(home, ['up']);
      let progress = '';
      // Killed once it has started Kafka and is starting Elasticsearch: a service done, one under way, the sink to come.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`up never reached "start elasticsearch": ${progress}`)), 90_000);
        up.stderr!.on('data', (chunk: Buffer) => {
          progress += String(chunk);
          if (/✔ kafka ready/.test(progress) && /▸ start elasticsearch/.test(progress)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await sleep(1_500);
      const procs = await stackProcesses(home);
      if (!procs.elasticsearch?.length) throw new Error(`no Elasticsearch process 1.5 s after up started it: ${JSON.stringify(procs)}`);
      up.kill('SIGKILL');
      await up;
      // The next up meets the Elasticsearch the killed one left, running and answering (the deterministic case).
      await untilAnswers(`http://127.0.0.1:${(await stackState(home)).services.elasticsearch!.ports.main}/_cluster/health`, 90_000);
    },
    upOnce,
    ['elasticsearch', 'sink', 'auditing'],
  );

  scenario(
    9,
    'two concurrent up',
    async () => {
      const r = await run(home, ['stop', 'sink']);
      if (r.code !== 0) throw new Error(`stop sink exited ${r.code}: ${r.stderr}`);
    },
    async () => {
      const [a, b] = (await Promise.all([run(home, ['up']), run(home, ['up'])])) as [CliRun, CliRun];
      const problems: string[] = [];
      if (a.code !== 0 || b.code !== 0) problems.push(`up exited ${a.code} and ${b.code}`);
      const waited = [a, b].filter((r) => r.stderr.includes('waiting for another outboxctl command')).length;
      if (waited !== 1) problems.push(`${waited} of the two ups said they waited on the stack's lock (expected 1)`);
      const started = [a, b].filter((r) => /▸ start (the embedded )?sink/.test(r.stderr)).length;
      if (started !== 1) problems.push(`${started} of the two ups started the sink (expected 1)`);
      return { problems, evidence: problems.length ? `--- up A\n${a.stderr}\n--- up B\n${b.stderr}` : undefined };
    },
    ['sink'],
  );
});
