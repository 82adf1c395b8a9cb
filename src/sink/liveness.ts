/**
 * What `/health` says: STARTING until the first assignment, RUNNING while it consumes, RETRYING while
 * Elasticsearch does not take a batch, REBALANCING or STALLED once it stopped consuming, FAILED, STOPPED.
 */
export type SinkState = 'STARTING' | 'RUNNING' | 'RETRYING' | 'REBALANCING' | 'STALLED' | 'FAILED' | 'STOPPED';

/** What the sink knows about its consumer at one moment (times in ms of the sink's clock). */
export interface ConsumerActivity {
  /** The sink's own state: everything but RUNNING is reported as it is. */
  state: Exclude<SinkState, 'REBALANCING' | 'STALLED'>;
  /** The last fetch that completed or chunk that was indexed, or the consumer's (re)start. */
  lastProgressAt: number;
  /** A chunk is being written to Elasticsearch: the consumer waits for it by design. */
  writing: boolean;
  /** The consumer is (re)joining its group: after kafkajs' REBALANCING or a restart, until it is assigned partitions. */
  joining: boolean;
  /** Kafka answered the sink's last lag read. */
  kafkaReachable: boolean;
  /** Records behind the topics' end at the last reading (undefined: never read). */
  lag?: number;
}

/**
 * Not consuming for this long is reported: well under the 5 s allowed (a loaded 2-core machine adds
 * a second), well above the ~0.1 s between fetches and a routine rebalance.
 */
export const STALL_AFTER_MS = 2_500;

/** The watchdog restarts a consumer that has made no progress for this long while records wait. */
export const RESTART_AFTER_MS = 10_000;

/**
 * Pure: the state `/health` reports. A consumer that made no progress for `stallAfterMs` is
 * REBALANCING when it is in a join with Kafka answering, else STALLED (a broker that is down or
 * stopped, a fetch that never returns).
 */
export function reportedState(activity: ConsumerActivity, nowMs: number, stallAfterMs = STALL_AFTER_MS): SinkState {
  if (activity.state !== 'RUNNING') return activity.state;
  if (activity.writing || nowMs - activity.lastProgressAt < stallAfterMs) return 'RUNNING';
  return activity.joining && activity.kafkaReachable ? 'REBALANCING' : 'STALLED';
}

/**
 * Pure: whether the watchdog replaces the consumer. Only while Kafka answers and records wait: a
 * consumer that cannot reach Kafka gains nothing from a restart, and one at the end has nothing to fetch.
 */
export function shouldRestartConsumer(activity: ConsumerActivity, nowMs: number, restartAfterMs = RESTART_AFTER_MS): boolean {
  return (
    activity.state === 'RUNNING' && !activity.writing && activity.kafkaReachable && (activity.lag ?? 0) > 0 && nowMs - activity.lastProgressAt >= restartAfterMs
  );
}

/**
 * Pure: `/health`'s HTTP status. 503 when the sink itself is not doing its job: before it joined
 * its group, REBALANCING or STALLED while Kafka answers, FAILED, STOPPED. A sink STALLED because
 * Kafka does not answer says 200: it resumes by itself once the broker is back, and a supervisor
 * that restarted it (as `up`'s probe does with a 503) would only delay that.
 */
export function healthStatus(state: SinkState, kafkaReachable: boolean): 200 | 503 {
  if (state === 'RUNNING' || state === 'RETRYING') return 200;
  return state === 'STALLED' && !kafkaReachable ? 200 : 503;
}

/** A consumer kafkajs stopped without restarting it is restarted after 1 s, doubling up to 30 s. */
export const CRASH_RESTART_INITIAL_MS = 1_000;
export const CRASH_RESTART_MAX_MS = 30_000;
/** This many consecutive crashes of one error type with no join in between fail the sink. */
export const CRASH_GIVE_UP_AFTER = 10;

/** Consecutive consumer crashes since the last join: the error type of the latest and how often it came in a row. */
export interface CrashStreak {
  type: string;
  count: number;
}

/**
 * Pure: the streak after a crash of `type`. A join in between resets it (the caller forgets the
 * streak); another error type starts a new one.
 */
export function nextCrashStreak(streak: CrashStreak | undefined, type: string): CrashStreak {
  return streak?.type === type ? { type, count: streak.count + 1 } : { type, count: 1 };
}

/** Pure: how long to wait before restarting the consumer after the `count`-th crash in a row (1 s, 2 s, 4 s, … ≤30 s). */
export function crashRestartDelayMs(count: number, initialMs = CRASH_RESTART_INITIAL_MS, maxMs = CRASH_RESTART_MAX_MS): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(count - 1, 30)));
}

/** Pure: the sink fails instead of restarting once one error type crashed the consumer this often in a row. */
export function shouldGiveUpAfterCrash(streak: CrashStreak, giveUpAfter = CRASH_GIVE_UP_AFTER): boolean {
  return streak.count >= giveUpAfter;
}
