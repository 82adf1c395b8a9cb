import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_SMOKE_STEPS } from '../../src/smoke/steps.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { query } from '../helpers/db.js';
import { nativeStackState } from '../helpers/state.js';

/**
 * `outboxctl smoke --context NAME` against a running pipeline reached only through a context:
 * the pipeline is a real stack under its own home (A, started with `--token` by the file that calls
 * these cases, so that one stack serves both), smoke runs with another home (B) that stays empty,
 * so nothing of a local stack can be read; the context carries the servers' tokens.
 */
let homeA: string;
let homeB: string;
let configHome: string;
let token: string;
let endpoints: Record<string, string>;
let databaseUrl: string;

const CONTEXT = 'deployed';
const stepNames = CONTEXT_SMOKE_STEPS.map((s) => s.name);

/** The deployed pipeline's own view of itself (the test's, not smoke's). */
const onA = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: homeA, NO_COLOR: '1' }, reject: false, cwd: ROOT });
/** outboxctl as a machine that knows the pipeline only through the context. */
const viaContext = (args: string[], env: Record<string, string> = {}) =>
  execa(BIN, args, {
    env: { OUTBOXCTL_HOME: homeB, XDG_CONFIG_HOME: configHome, NO_COLOR: '1', SMOKE_TRACKING_TOKEN: token, SMOKE_AUDITING_TOKEN: token, ...env },
    reject: false,
    cwd: ROOT,
  });

const json = async <T>(args: string[]): Promise<T> => {
  const r = await onA(args);
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
};

interface Inventory {
  topics: string[];
  groups: string[];
  connectors: string[];
  indices: string[];
  parcels: string[];
}

/** Everything smoke must not create: topics, consumer groups, connectors, indices; and the parcel rows. */
async function inventory(): Promise<Inventory> {
  const [topics, groups, connectors, indices, parcels] = await Promise.all([
    json<{ topics: { name: string }[] }>(['topic', 'list', '--internal', '--json']),
    json<{ groups: { group: string }[] }>(['group', 'list', '--json']),
    json<{ connectors: { name: string }[] }>(['connectors', 'list', '--json']),
    fetch(`${endpoints.elasticsearch}/_cat/indices?format=json`).then(async (r) => (await r.json()) as { index: string }[]),
    query<{ id: string }>(databaseUrl, 'SELECT id::text AS id FROM parcel'),
  ]);
  return {
    topics: topics.topics.map((t) => t.name).sort(),
    groups: groups.groups.map((g) => g.group).sort(),
    connectors: connectors.connectors.map((c) => c.name).sort(),
    indices: indices.map((i) => i.index).sort(),
    parcels: parcels.map((p) => p.id).sort(),
  };
}

/** Each service of A with the identity of its process: a restart changes it. */
async function identities(): Promise<Record<string, string>> {
  const state = await nativeStackState(homeA);
  return Object.fromEntries(Object.entries(state.services).map(([name, s]) => [name, `${s.pid}/${s.startId ?? ''}`]));
}

async function allReady(): Promise<boolean> {
  const status = await json<{ services: { name: string; state: string }[] }>(['status', '--json']);
  return status.services.length > 0 && status.services.every((s) => s.state === 'ready');
}

interface Report {
  passed: boolean;
  stack: string | null;
  context: string | null;
  steps: { name: string; status: string; message: string }[];
  parcelId: string | null;
  eventIds: string[];
  documents: { index: string; id: string }[];
  stoppedAfter: string[];
}

/** Polls until `check` holds (the hook's timeout bounds it). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The cases, on the running stack under `stackHome()` (started with `--token`; its caller stops it). */
export function smokeContextCases(stackHome: () => string): void {
  describe('outboxctl smoke --context against a deployed pipeline', () => {
    beforeAll(async () => {
      const tmp = (n: string) => mkdtemp(path.join(os.tmpdir(), `outboxctl-smoke-ctx-${n}-`));
      homeA = stackHome();
      homeB = await tmp('b');
      configHome = await tmp('config');
      const state = await nativeStackState(homeA);
      token = state.secrets.token!;
      expect(token).toBeTruthy();
      databaseUrl = state.endpoints.database!;
      endpoints = (await json<{ endpoints: Record<string, string> }>(['status', '--json'])).endpoints;
      // A deployed pipeline has data: its sink has made its indices, so a new index would be smoke's.
      expect((await onA(['parcel', 'create', '--contents', 'before smoke'])).exitCode).toBe(0);
      await until(async () => {
        const indices = (await (await fetch(`${endpoints.elasticsearch}/_cat/indices?format=json`)).json()) as { index: string }[];
        return ['parcel.outbox', 'parcels'].every((i) => indices.some((x) => x.index === i));
      }, 'the sink to index the first parcel');
      const created = await viaContext([
        'context',
        'create',
        CONTEXT,
        '--bootstrap-server',
        endpoints.kafka!,
        '--connect-url',
        endpoints.connect!,
        '--elasticsearch-url',
        endpoints.elasticsearch!,
        '--database-url',
        databaseUrl,
        '--tracking-url',
        endpoints.tracking!,
        '--tracking-token',
        'env:SMOKE_TRACKING_TOKEN',
        '--auditing-url',
        endpoints.auditing!,
        '--auditing-token',
        'env:SMOKE_AUDITING_TOKEN',
      ]);
      expect(created.exitCode, created.stderr).toBe(0);
    });

    it('passes through the context alone, starts and stops nothing, and leaves only its one parcel, which the report names', async () => {
      const before = await inventory();
      const pids = await identities();

      const r = await viaContext(['smoke', '--context', CONTEXT, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.passed).toBe(true);
      expect(report.steps.map((s) => [s.name, s.status])).toEqual(stepNames.map((n) => [n, 'passed']));
      expect(report).toMatchObject({ stack: null, context: CONTEXT, stoppedAfter: [] });
      expect(report.steps[0]!.message).toMatch(new RegExp(`^external pipeline \\(context "${CONTEXT}"\\), nothing started; parcel\\.outbox ends at `));
      expect(r.stderr).not.toMatch(/warning/);

      // No local stack state was read or written: B is as empty as it was.
      expect(await readdir(homeB)).toEqual([]);

      // The pipeline still runs, every service the very process it was.
      expect(await allReady()).toBe(true);
      expect(await identities()).toEqual(pids);

      // Exactly one new parcel, the one the report names; nothing else new.
      const after = await inventory();
      expect(after.parcels.filter((id) => !before.parcels.includes(id))).toEqual([report.parcelId]);
      expect({ ...after, parcels: [] }).toEqual({ ...before, parcels: [] });

      // Its events are on parcel.outbox (read here without a group too), keyed by the parcel, with the reported ids.
      expect(report.eventIds).toHaveLength(2);
      const tail = await onA(['topic', 'tail', 'parcel.outbox', '--from-beginning', '-e', '--unwrap']);
      expect(tail.exitCode, tail.stderr).toBe(0);
      const onTopic = tail.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { eventId: string; aggregateId: string })
        .filter((e) => e.aggregateId === report.parcelId);
      expect(onTopic.map((e) => e.eventId)).toEqual(report.eventIds);

      // Its documents: the two events (id = event id) and its projection in parcels (id = parcel id).
      expect(report.documents).toEqual([
        { index: 'parcel.outbox', id: report.eventIds[0] },
        { index: 'parcel.outbox', id: report.eventIds[1] },
        { index: 'parcels', id: report.parcelId },
      ]);
      for (const d of report.documents) {
        const doc = await fetch(`${endpoints.elasticsearch}/${encodeURIComponent(d.index)}/_doc/${d.id}`);
        expect(doc.status, `${d.index}/${d.id}`).toBe(200);
      }
      const projection = (await (await fetch(`${endpoints.elasticsearch}/parcels/_doc/${report.parcelId}`)).json()) as { _source: { status: string } };
      expect(projection._source.status).toBe('in_transit');

      // The text output names what was left behind.
      const text = await viaContext(['smoke', '--context', CONTEXT]);
      expect(text.exitCode, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(
          `^smoke passed: 8 steps in .* \\(context "${CONTEXT}", parcel [0-9a-f-]{36}\\)\\.\\nleft behind: parcel [0-9a-f-]{36} \\(its row\\); events `,
        ),
      );
      expect(text.stdout).toMatch(/; documents parcel\.outbox\/[0-9a-f-]{36}, parcel\.outbox\/[0-9a-f-]{36}, parcels\/[0-9a-f-]{36}\.\n?$/);
      expect(await readdir(homeB)).toEqual([]);
    });

    it("with the context's auditing token wrong it exits 1 naming the auditing server and the fix, before writing anything; nothing is stopped", async () => {
      const before = await inventory();
      const pids = await identities();
      const r = await viaContext(['smoke', '--context', CONTEXT, '--json'], { SMOKE_AUDITING_TOKEN: 'not-the-token' });
      expect(r.exitCode).toBe(1);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.passed).toBe(false);
      const failed = report.steps.find((s) => s.status === 'failed')!;
      expect(failed.name).toBe('stack');
      expect(failed.message).toMatch(/^the auditing server at http:\/\/[^ ]+ answered GET \/stats with 401 /);
      expect(failed.message).toContain(
        `give context "${CONTEXT}" the auditing server's token (\`outboxctl context create ${CONTEXT} --force … --auditing-token env:VAR\`)`,
      );
      expect(report.steps.slice(1).every((s) => s.status === 'skipped')).toBe(true);
      expect(report.parcelId).toBeNull();
      expect(await inventory()).toEqual(before);
      expect(await identities()).toEqual(pids);
      expect(await allReady()).toBe(true);
      expect(await readdir(homeB)).toEqual([]);
    });

    it('--runtime, --image and --keep under a context are a usage error in one sentence, and nothing runs', async () => {
      const before = await inventory();
      const r = await viaContext(['smoke', '--context', CONTEXT, '--keep', '--runtime', 'native']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`--runtime, --keep have no meaning under context "${CONTEXT}": smoke starts and stops nothing there.`);
      expect(r.stdout).toBe('');
      expect(await inventory()).toEqual(before);
    });
  });
}
