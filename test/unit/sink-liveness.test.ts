import { describe, expect, it } from 'vitest';
import type { Watermarks } from '../../src/clients/kafka.js';
import type { Clock } from '../../src/lib/clock.js';
import { LagProbe, sinkLag } from '../../src/sink/lag.js';
import {
  type ConsumerActivity,
  CRASH_GIVE_UP_AFTER,
  type CrashStreak,
  crashRestartDelayMs,
  healthStatus,
  nextCrashStreak,
  reportedState,
  STALL_AFTER_MS,
  shouldGiveUpAfterCrash,
  shouldRestartConsumer,
} from '../../src/sink/liveness.js';

const activity = (over: Partial<ConsumerActivity> = {}): ConsumerActivity => ({
  state: 'RUNNING',
  lastProgressAt: 1_000,
  writing: false,
  joining: false,
  kafkaReachable: true,
  lag: 0,
  ...over,
});

describe('reportedState (what /health says)', () => {
  it('RUNNING while fetches complete, STALLED once none did for the threshold', () => {
    expect(reportedState(activity(), 1_000 + STALL_AFTER_MS - 1)).toBe('RUNNING');
    expect(reportedState(activity(), 1_000 + STALL_AFTER_MS)).toBe('STALLED');
  });

  it('a join that outlasts the threshold is REBALANCING while Kafka answers, STALLED when it does not', () => {
    const joining = activity({ joining: true });
    expect(reportedState(joining, 1_500)).toBe('RUNNING');
    expect(reportedState(joining, 10_000)).toBe('REBALANCING');
    expect(reportedState({ ...joining, kafkaReachable: false }, 10_000)).toBe('STALLED');
  });

  it('a chunk being written to Elasticsearch is progress, however long it takes', () => {
    expect(reportedState(activity({ writing: true }), 60_000)).toBe('RUNNING');
  });

  it("the sink's own states are reported as they are", () => {
    for (const state of ['STARTING', 'RETRYING', 'FAILED', 'STOPPED'] as const) expect(reportedState(activity({ state }), 60_000)).toBe(state);
  });
});

describe('healthStatus', () => {
  it('503 when the sink is at fault, 200 while it consumes or waits for a broker that does not answer', () => {
    expect(healthStatus('RUNNING', true)).toBe(200);
    expect(healthStatus('RETRYING', false)).toBe(200);
    expect(healthStatus('STALLED', false)).toBe(200);
    expect(healthStatus('STALLED', true)).toBe(503);
    expect(healthStatus('REBALANCING', true)).toBe(503);
    for (const state of ['STARTING', 'FAILED', 'STOPPED'] as const) expect(healthStatus(state, true)).toBe(503);
  });
});

describe('shouldRestartConsumer (the watchdog)', () => {
  const stuck = activity({ lag: 5 });
  it('restarts a consumer without progress for 10 s while Kafka answers and records wait', () => {
    expect(shouldRestartConsumer(stuck, 1_000 + 9_999)).toBe(false);
    expect(shouldRestartConsumer(stuck, 1_000 + 10_000)).toBe(true);
  });

  it('leaves it alone at the end of the topic, with Kafka down, while writing, or once failed', () => {
    expect(shouldRestartConsumer({ ...stuck, lag: 0 }, 60_000)).toBe(false);
    expect(shouldRestartConsumer({ ...stuck, lag: undefined }, 60_000)).toBe(false);
    expect(shouldRestartConsumer({ ...stuck, kafkaReachable: false }, 60_000)).toBe(false);
    expect(shouldRestartConsumer({ ...stuck, writing: true }, 60_000)).toBe(false);
    expect(shouldRestartConsumer({ ...stuck, state: 'FAILED' }, 60_000)).toBe(false);
  });
});

describe('sinkLag', () => {
  const ends = new Map<string, Watermarks[]>([
    [
      'parcel.outbox',
      [
        { partition: 0, low: 0n, high: 10n },
        { partition: 1, low: 4n, high: 9n },
      ],
    ],
  ]);

  it('per partition and in total, from the committed offsets; without a commit from the oldest record', () => {
    const lag = sinkLag([{ topic: 'parcel.outbox', partition: 0, offset: 7n }], ends, Date.UTC(2026, 0, 1));
    expect(lag).toEqual({
      total: 8,
      partitions: [
        { topic: 'parcel.outbox', partition: 0, committed: 7, end: 10, lag: 3 },
        { topic: 'parcel.outbox', partition: 1, committed: null, end: 9, lag: 5 },
      ],
      measuredAt: '2026-01-01T00:00:00.000Z',
    });
  });
});

describe('LagProbe', () => {
  const clock = (): Clock & { t: number } => {
    const c = { t: 0, now: () => c.t, sleep: async () => undefined };
    return c;
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('keeps the last reading when Kafka stops answering, and says it is unreachable', async () => {
    const c = clock();
    let answer = true;
    let connects = 0;
    const admin = {
      committedOffsets: async () => {
        if (!answer) throw new Error('Connection error: connect ECONNREFUSED');
        return [{ topic: 'parcel.outbox', partition: 0, offset: 3n }];
      },
      watermarks: async () => [{ partition: 0, low: 0n, high: 5n }],
      close: async () => undefined,
    };
    const probe = new LagProbe(
      async () => {
        connects++;
        return admin;
      },
      'g',
      ['parcel.outbox'],
      c,
    );
    probe.poll();
    await settle();
    expect(probe.latest?.total).toBe(2);
    expect(probe.reachable()).toBe(true);
    answer = false;
    c.t = 5_000;
    probe.poll();
    await settle();
    expect(probe.reachable()).toBe(false);
    expect(probe.latest?.total).toBe(2);
    expect(probe.lastError).toContain('ECONNREFUSED');
    answer = true;
    probe.poll();
    await settle();
    // A failed read dropped the client: the next one connected anew.
    expect(connects).toBe(2);
    expect(probe.reachable()).toBe(true);
  });

  it('a read that hangs (a stopped broker) makes Kafka unreachable after 2 s, and no second read starts meanwhile', async () => {
    const c = clock();
    let reads = 0;
    const probe = new LagProbe(
      async () => ({
        committedOffsets: async () => {
          reads++;
          if (reads > 1) await new Promise(() => undefined);
          return [];
        },
        watermarks: async () => [{ partition: 0, low: 0n, high: 0n }],
        close: async () => undefined,
      }),
      'g',
      ['parcel.outbox'],
      c,
    );
    probe.poll();
    await settle();
    probe.poll();
    await settle();
    c.t = 1_999;
    expect(probe.reachable()).toBe(true);
    c.t = 2_000;
    expect(probe.reachable()).toBe(false);
    probe.poll();
    await settle();
    expect(reads).toBe(2);
  });
});

describe('restarting a consumer kafkajs stopped: backoff and giving up', () => {
  it('waits 1 s, doubling to at most 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10, 1_000].map((n) => crashRestartDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('counts crashes of one error type in a row; another type starts over, as does a join (no streak)', () => {
    let streak: CrashStreak | undefined;
    for (let i = 0; i < 3; i++) streak = nextCrashStreak(streak, 'UNKNOWN_MEMBER_ID');
    expect(streak).toEqual({ type: 'UNKNOWN_MEMBER_ID', count: 3 });
    expect(crashRestartDelayMs(streak!.count)).toBe(4_000);
    streak = nextCrashStreak(streak, 'NOT_COORDINATOR');
    expect(streak).toEqual({ type: 'NOT_COORDINATOR', count: 1 });
    // After a join the sink forgets the streak: the next crash waits 1 s again.
    expect(nextCrashStreak(undefined, 'NOT_COORDINATOR')).toEqual({ type: 'NOT_COORDINATOR', count: 1 });
  });

  it(`fails the sink at the ${CRASH_GIVE_UP_AFTER}th crash of one type in a row, not before`, () => {
    expect(CRASH_GIVE_UP_AFTER).toBe(10);
    let streak: CrashStreak | undefined;
    const verdicts: boolean[] = [];
    for (let i = 0; i < CRASH_GIVE_UP_AFTER; i++) {
      streak = nextCrashStreak(streak, 'ILLEGAL_GENERATION');
      verdicts.push(shouldGiveUpAfterCrash(streak));
    }
    expect(verdicts.slice(0, -1).every((v) => !v)).toBe(true);
    expect(verdicts.at(-1)).toBe(true);
    // Alternating types never build a streak.
    let mixed: CrashStreak | undefined;
    for (let i = 0; i < 30; i++) mixed = nextCrashStreak(mixed, i % 2 ? 'A' : 'B');
    expect(shouldGiveUpAfterCrash(mixed!)).toBe(false);
  });
});
