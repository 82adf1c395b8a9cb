import { setTimeout as sleep } from 'node:timers/promises';

/** Time as retries and readiness checks see it; tests pass a fake one so they never really sleep. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; a clock that takes the signal stops its timer when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};
