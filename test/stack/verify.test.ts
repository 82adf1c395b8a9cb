import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BIN, ROOT } from '../helpers/cli.js';
import { stackState } from '../helpers/state.js';

/**
 * `outboxctl verify` on one real native stack: consistent after a few parcels; a deleted event
 * document and a record the stopped sink never indexed are named by id (exit 1); consistent again
 * once the sink is back; a repeated record is a note, an older version after a newer one a problem.
 */
let home: string;
let es: string;
const outboxctl = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1', ...env }, reject: false, cwd: ROOT });

const sample = z.object({ count: z.number().int().min(0), first: z.array(z.string()) });
/** The fields docs/verify.md documents (more may be added, never removed). */
const reportSchema = z.object({
  consistent: z.boolean(),
  window: z.object({ from: z.string().datetime().nullable(), to: z.string().datetime() }),
  settledMs: z.number().min(0),
  stages: z.object({
    outbox: z.object({ kept: z.boolean(), rows: z.number().int() }),
    topic: z.object({
      records: z.number().int(),
      distinct: z.number().int(),
      repeated: z.number().int(),
      missing: sample,
      extra: sample,
      orderViolations: z.object({
        count: z.number().int(),
        first: z.array(z.object({ key: z.string(), eventId: z.string(), version: z.number().int(), after: z.number().int() })),
      }),
    }),
    events: z.object({ documents: z.number().int(), missing: sample, extra: sample }),
    parcels: z.object({
      rows: z.number().int(),
      documents: z.number().int(),
      missing: sample,
      stale: z.object({ count: z.number().int(), first: z.array(z.object({ id: z.string(), version: z.number().int(), expected: z.number().int() })) }),
      extra: sample,
    }),
  }),
  lag: z.object({ slotBytes: z.number().nullable(), sinkRecords: z.number().nullable(), notSearchable: z.number().nullable() }),
  problems: z.array(z.string()),
});
type Report = z.infer<typeof reportSchema>;

async function verify(args: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await outboxctl(['verify', '--json', ...args]);
  const json = JSON.parse(r.stdout) as Report;
  // Validated against the documented fields; returned whole, with the fields documented besides.
  reportSchema.parse(json);
  return { code: r.exitCode ?? -1, report: json, stderr: r.stderr };
}

async function parcel(args: string[]): Promise<{ id: string; version: number }> {
  const r = await outboxctl(['parcel', ...args, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { id: string; version: number };
}

/** The outbox events of one parcel, as the topic holds them. */
async function eventsOf(parcelId: string): Promise<{ eventId: string; aggregateId: string; payload: { parcel: { version: number } } }[]> {
  const r = await outboxctl(['topic', 'tail', 'parcel.outbox', '--from-beginning', '-e', '--unwrap', '--aggregate', parcelId]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

async function esRequest(method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(`${es}${url}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe('outboxctl verify on a native stack', () => {
  const parcels: string[] = [];

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-verify-'));
    const up = await outboxctl(['up', '--runtime', 'native']);
    expect(up.exitCode, up.stderr).toBe(0);
    es = (await stackState(home)).endpoints.elasticsearch!;
    for (let i = 0; i < 3; i++) {
      const p = await parcel(['create', '--contents', `verify ${i}`]);
      await parcel(['update', p.id, '--status', 'in_transit']);
      parcels.push(p.id);
    }
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
  });

  it('a healthy stack is consistent: exit 0, every event in every stage, the text says so', async () => {
    const { code, report } = await verify();
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.consistent).toBe(true);
    expect(report.window.from).toBeNull();
    expect(report.stages.outbox).toMatchObject({ kept: true, rows: 6 });
    expect(report.stages.topic).toMatchObject({ records: 6, distinct: 6, repeated: 0 });
    expect(report.stages.events.documents).toBe(6);
    expect(report.stages.parcels).toMatchObject({ rows: 3, documents: 3 });
    expect(report.lag.sinkRecords).toBe(0);

    const text = await outboxctl(['verify']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^topic {4}6 records on parcel\.outbox, 6 distinct, 0 repeated, 0 missing, 0 extra, 0 out of order$/m);
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^consistent/);

    const windowed = await verify(['--since', '1h']);
    expect(windowed.code).toBe(0);
    expect(windowed.report.window.from).not.toBeNull();
    expect(windowed.report.stages.topic.records).toBe(6);
  });

  it("an event's document deleted from the events index: exit 1, naming its id; back once it is indexed again", async () => {
    const [first] = await eventsOf(parcels[0]!);
    const id = first!.eventId;
    const saved = (await (await esRequest('GET', `/parcel.outbox/_doc/${id}`)).json()) as { _source: unknown };
    expect((await esRequest('DELETE', `/parcel.outbox/_doc/${id}?refresh=true`)).ok).toBe(true);

    const { code, report } = await verify(['--settle', '2s']);
    expect(code).toBe(1);
    expect(report.consistent).toBe(false);
    expect(report.stages.events.missing).toEqual({ count: 1, first: [id] });
    expect(report.stages.topic.missing.count).toBe(0);
    expect(report.problems).toEqual([`1 event has no document in parcel.outbox: ${id}`]);
    expect(report.settledMs).toBeGreaterThan(0);
    const text = await outboxctl(['verify', '--settle', '1s']);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`problem: 1 event has no document in parcel.outbox: ${id}`);

    expect((await esRequest('PUT', `/parcel.outbox/_doc/${id}?refresh=true`, saved._source)).ok).toBe(true);
    expect((await verify()).code).toBe(0);
  });

  it('a record whose document never arrives (sink stopped): exit 1 naming it; 0 again after up', async () => {
    expect((await outboxctl(['stop', 'sink'])).exitCode).toBe(0);
    const p = await parcel(['create', '--contents', 'never indexed']);
    const events = await eventsOf(p.id);
    expect(events).toHaveLength(1);

    const { code, report } = await verify(['--settle', '3s']);
    expect(code).toBe(1);
    expect(report.stages.events.missing).toEqual({ count: 1, first: [events[0]!.eventId] });
    expect(report.stages.parcels.missing).toEqual({ count: 1, first: [p.id] });
    expect(report.problems.join('\n')).toContain(events[0]!.eventId);
    expect(report.lag.sinkRecords).toBe(1);
    expect(report.lag.notSearchable).toBe(1);

    const up = await outboxctl(['up']);
    expect(up.exitCode, up.stderr).toBe(0);
    const after = await verify();
    expect(after.report.problems).toEqual([]);
    expect(after.code).toBe(0);
    expect(after.report.stages.events.documents).toBe(7);
  });

  it('a repeated record is a note (normal after a crash), not a problem', async () => {
    const [, second] = await eventsOf(parcels[1]!);
    const raw = await outboxctl(['topic', 'tail', 'parcel.outbox', '--from-beginning', '-e', '--aggregate', parcels[1]!]);
    const secondValue = raw.stdout.split('\n').find((l) => l.includes(second!.eventId))!;
    const repeat = await outboxctl(['topic', 'produce', 'parcel.outbox', '-k', parcels[1]!, '--value', secondValue]);
    expect(repeat.exitCode, repeat.stderr).toBe(0);

    const repeated = await verify(['--settle', '5s']);
    expect(repeated.report.problems).toEqual([]);
    expect(repeated.code).toBe(0);
    expect(repeated.report.stages.topic).toMatchObject({ records: 8, distinct: 7, repeated: 1 });
    const text = await outboxctl(['verify', '--settle', '5s']);
    expect(text.stdout).toContain('note: 1 record on parcel.outbox repeats an event already on it: normal after a crash under at-least-once delivery');
  });

  it('once the tracking server deletes outbox rows after insert, newer events are judged against the topic: still exit 0', async () => {
    const restart = await outboxctl(['restart', 'tracking'], { OUTBOX_DELETE_AFTER_INSERT: 'true' });
    expect(restart.exitCode, restart.stderr).toBe(0);
    const p = await parcel(['create', '--contents', 'row deleted after insert']);
    await parcel(['update', p.id, '--status', 'delivered']);
    const { code, report } = await verify();
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.stages.outbox).toMatchObject({ kept: true, rows: 7, newerOnTopic: 2 });
    expect(report.stages.events.documents).toBe(9);
    expect(report.stages.parcels).toMatchObject({ rows: 5, documents: 5 });
  });

  it('an older version after a newer one on the same key is a problem naming key and event', async () => {
    const [, second] = await eventsOf(parcels[1]!);
    const raw = await outboxctl(['topic', 'tail', 'parcel.outbox', '--from-beginning', '-e', '--aggregate', parcels[1]!]);
    const secondValue = raw.stdout.split('\n').find((l) => l.includes(second!.eventId))!;
    // Version 1 of parcel 1 again, under an event id no outbox row has: out of order and without a source.
    const stale = JSON.parse(secondValue) as { eventId: string; payload: { parcel: { version: number } } };
    stale.eventId = '00000000-0000-4000-8000-000000000001';
    stale.payload.parcel.version = 1;
    expect((await outboxctl(['topic', 'produce', 'parcel.outbox', '-k', parcels[1]!, '--value', JSON.stringify(stale)])).exitCode).toBe(0);
    const { code, report } = await verify(['--settle', '2s']);
    expect(code).toBe(1);
    expect(report.stages.topic.orderViolations).toEqual({ count: 1, first: [{ key: parcels[1], eventId: stale.eventId, version: 1, after: 2 }] });
    expect(report.stages.topic.extra.first).toEqual([stale.eventId]);
  });
});
