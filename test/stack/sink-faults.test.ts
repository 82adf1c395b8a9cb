import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { nativeStackState } from '../helpers/state.js';

/**
 * Issue 15's faults on a real native stack: a broker that stops answering (SIGSTOP) and a sink that
 * is killed (kill -9, then `up` at once). Checked is what an operator sees: the sink's /health (state,
 * lag) and the read model (every event on parcel.outbox has its document, read by kcat and over
 * Elasticsearch's HTTP API). The deadlines are the issue's requirements, not timings.
 */
let home: string;
let endpoints: Record<string, string>;
let sinkUrl: string;

const outboxctl = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, all: true, cwd: ROOT });

interface Health {
  state: string;
  kafkaReachable: boolean;
  lastConsumedAt?: string;
  lag?: { total: number; partitions: { topic: string; partition: number; end: number; lag: number }[]; measuredAt: string };
}

async function health(): Promise<{ status: number; body: Health } | undefined> {
  try {
    const response = await fetch(`${sinkUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: (await response.json()) as Health };
  } catch {
    return undefined;
  }
}

/** Polls `fn` until `ok`, within `withinMs` after `sinceMs` (a reading taken later does not count); fails with the last value. */
async function eventually<T>(what: string, sinceMs: number, withinMs: number, fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const last = await fn();
    const late = Date.now() - sinceMs > withinMs;
    if (ok(last) && !late) return last;
    if (late) throw new Error(`${what}: not within ${withinMs} ms (last: ${JSON.stringify(last).slice(0, 400)})`);
    await sleep(200);
  }
}

async function createParcels(n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const response = await fetch(`${endpoints.tracking}/api/parcel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: `${label} ${i}` }),
    });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
    ids.push(((await response.json()) as { id: string }).id);
  }
  return ids;
}

/** The events on parcel.outbox, as kcat reads them. */
async function topicEvents(): Promise<{ eventId: string; aggregateId: string }[]> {
  const r = await execa('kcat', ['-C', '-b', endpoints.kafka!, '-t', 'parcel.outbox', '-e', '-q', '-f', '%s\n'], { reject: false, timeout: 20_000 });
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { eventId: string; aggregateId: string });
}

/** Event ids without a document in the events index. */
async function withoutDocument(eventIds: string[]): Promise<string[]> {
  if (eventIds.length === 0) return [];
  const response = await fetch(`${endpoints.elasticsearch}/parcel.outbox/_mget?_source=false`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ids: eventIds }),
  });
  const body = (await response.json()) as { docs?: { _id: string; found: boolean }[] };
  return (body.docs ?? eventIds.map((_id) => ({ _id, found: false }))).filter((d) => !d.found).map((d) => d._id);
}

/** How far the read model is: parcels whose event is not on the topic yet, and events on it without their document. */
async function readModel(parcels: string[]): Promise<{ events: number; parcelsNotOnTopic: string[]; eventsWithoutDocument: string[] }> {
  const events = await topicEvents();
  const onTopic = new Set(events.map((e) => e.aggregateId));
  return {
    events: events.length,
    parcelsNotOnTopic: parcels.filter((p) => !onTopic.has(p)),
    eventsWithoutDocument: await withoutDocument(events.map((e) => e.eventId)),
  };
}

const caughtUp = (m: Awaited<ReturnType<typeof readModel>>) => m.events > 0 && m.parcelsNotOnTopic.length === 0 && m.eventsWithoutDocument.length === 0;

describe('the embedded sink under broker and sink faults (issue 15)', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-sink-faults-'));
    const up = await outboxctl(['up']);
    expect(up.exitCode, up.all).toBe(0);
    const state = await nativeStackState(home);
    endpoints = state.endpoints;
    const sink = state.services.sink!;
    sinkUrl = `http://${sink.host ?? '127.0.0.1'}:${sink.ports.main}`;
  });

  afterAll(async () => {
    if (home) await outboxctl(['down', '--volumes']);
  });

  it('a broker that stops answering: STALLED or REBALANCING with its lag within 5 s; RUNNING and caught up once it answers again', async () => {
    const before = await createParcels(2, 'before the stop');
    await eventually('the first parcels are indexed', Date.now(), 60_000, () => readModel(before), caughtUp);
    const kafkaPid = (await nativeStackState(home)).services.kafka!.pid!;
    process.kill(kafkaPid, 'SIGSTOP');
    const stoppedAt = Date.now();
    let during: string[];
    try {
      const seen = await eventually(
        'the sink reports that it no longer consumes',
        stoppedAt,
        5_000,
        health,
        (h) => (h?.body.state === 'STALLED' || h?.body.state === 'REBALANCING') && typeof h.body.lag?.total === 'number',
      );
      expect(seen!.body.lag!.partitions.map((p) => p.topic)).toContain('parcel.outbox');
      expect(Date.parse(seen!.body.lastConsumedAt!)).toBeLessThanOrEqual(Date.now());
      // 503 when the sink is at fault; waiting for a broker that does not answer is not its fault.
      expect(seen!.status).toBe(seen!.body.kafkaReachable ? 503 : 200);
      // The tracking server writes to PostgreSQL only: these wait in the outbox for the broker.
      during = await createParcels(3, 'while the broker is stopped');
    } finally {
      process.kill(kafkaPid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    await eventually('the sink consumes again', resumedAt, 20_000, health, (h) => h?.status === 200 && h.body.state === 'RUNNING');
    await eventually('the read model catches up', resumedAt, 20_000, () => readModel([...before, ...during]), caughtUp);
  });

  it('a killed sink: `up` restarts it and every event on the topic has its document within 20 s of the kill', async () => {
    const before = await createParcels(2, 'before the kill');
    await eventually('the first parcels are indexed', Date.now(), 60_000, () => readModel(before), caughtUp);
    const sinkPid = (await nativeStackState(home)).services.sink!.pid!;
    process.kill(sinkPid, 'SIGKILL');
    const killedAt = Date.now();
    // `up` at once, as the fault suite does; the read model is watched while it runs.
    const up = outboxctl(['up']);
    const during = await createParcels(3, 'while the sink is down');
    await eventually('the read model catches up', killedAt, 20_000, () => readModel([...before, ...during]), caughtUp);
    const result = await up;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('sink is not running any more');
    // The killed member is out of the group: the new one holds the partition alone.
    const group = await outboxctl(['group', 'describe', 'connect-elasticsearch-sink', '--json']);
    expect(group.exitCode, group.all).toBe(0);
    expect((JSON.parse(group.stdout) as { members: unknown[] }).members).toHaveLength(1);
  });

  it('the engine away for 35 s while records wait: the sink stays the one member of its group, alive, and indexes them once it is back', async () => {
    const members = async () => {
      const g = await outboxctl(['group', 'describe', 'connect-elasticsearch-sink', '--json']);
      expect(g.exitCode, g.all).toBe(0);
      return (JSON.parse(g.stdout) as { members: { memberId: string }[] }).members.map((m) => m.memberId);
    };
    const before = await createParcels(1, 'before the outage');
    await eventually('the parcel before the outage is indexed', Date.now(), 60_000, () => readModel(before), caughtUp);
    const member = await members();
    expect(member).toHaveLength(1);
    expect((await outboxctl(['stop', 'elasticsearch'])).exitCode).toBe(0);
    const during = await createParcels(3, 'while the engine is away');
    // Each bulk attempt takes the search client's 15 s deadline: without heartbeats in between, the
    // session (10 s) ends, and the consumer kafkajs then gave up on took the sink process down with it.
    await sleep(35_000);
    const away = await health();
    expect(away?.body.state).toBe('RETRYING');
    expect(await members()).toEqual(member);
    const up = await outboxctl(['up', '--services', 'elasticsearch']);
    expect(up.exitCode, up.all).toBe(0);
    await eventually('the read model catches up', Date.now(), 60_000, () => readModel([...before, ...during]), caughtUp);
    const state = await nativeStackState(home);
    const status = JSON.parse((await outboxctl(['status', '--json'])).stdout) as { services: { name: string; state: string }[] };
    const why = (await outboxctl(['logs', 'sink', '--tail', '40'])).stdout;
    expect(status.services.find((x) => x.name === 'sink')?.state, why).toBe('ready');
    expect(state.services.sink?.pid).toBeGreaterThan(0);
    expect(await members(), why).toEqual(member);
  }, 300_000);
});
