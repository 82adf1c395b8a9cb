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
    try {
      return await probe();
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
