import { setTimeout as sleep } from 'node:timers/promises';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export interface WaitOptions {
  timeoutMs: number;
  /** First pause between attempts; grows ×1.5 up to `maxIntervalMs`. */
  intervalMs?: number;
  maxIntervalMs?: number;
  clock?: Clock;
  /** Stop early (e.g. the process died): return an Error to throw, or undefined to go on. */
  abortIf?: () => Promise<Error | undefined> | Error | undefined;
}

export class ReadinessTimeout extends Error {
  constructor(
    readonly waitedMs: number,
    readonly lastError: unknown,
  ) {
    super(`not ready after ${waitedMs}ms${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
  }
}

/**
 * Polls `probe` until it resolves, with growing pauses, until the deadline.
 * Returns the probe's value; throws ReadinessTimeout carrying the last failure.
 */
export async function waitFor<T>(probe: () => Promise<T>, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  let interval = options.intervalMs ?? 100;
  const maxInterval = options.maxIntervalMs ?? 1_000;
  let lastError: unknown;
  for (;;) {
    const remaining = Math.max(1, options.timeoutMs - (clock.now() - start));
    try {
      // A probe that hangs is cut off at the deadline, not after its own timeouts.
      return await raceDeadline(probe(), remaining, clock);
    } catch (error) {
      lastError = error;
    }
    const abort = await options.abortIf?.();
    if (abort) throw abort;
    const elapsed = clock.now() - start;
    if (elapsed >= options.timeoutMs) throw new ReadinessTimeout(elapsed, lastError);
    await clock.sleep(Math.min(interval, options.timeoutMs - elapsed));
    interval = Math.min(maxInterval, Math.ceil(interval * 1.5));
  }
}

function raceDeadline<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  if (clock !== systemClock) return promise;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`probe did not answer within ${ms}ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
