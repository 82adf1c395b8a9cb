import { type Clock, systemClock } from './clock.js';

/** How the pause between attempts grows: `initialDelayMs × factor^(n-1)`, at most `maxDelayMs`. */
export interface Backoff {
  /** The pause after the first failure (default 100ms). */
  initialDelayMs?: number;
  /** No computed pause is longer (default 2s); a Retry-After may ask for more. */
  maxDelayMs?: number;
  /** Each pause is the previous one times this (default 2). */
  factor?: number;
}

export interface RetryOptions extends Backoff {
  /** Total time from the first attempt; `Infinity` retries for as long as it takes. */
  deadlineMs: number;
  /**
   * Shorten the last pause so that one more attempt runs at the deadline (readiness checks);
   * by default the retry gives up as soon as a whole pause would pass the deadline.
   */
  lastAttemptAtDeadline?: boolean;
  /** Give up after this many attempts, even before the deadline. */
  maxAttempts?: number;
  clock?: Clock;
  /** Aborting ends the pause at once and throws the signal's reason. */
  signal?: AbortSignal;
  /** False: the error is rethrown at once, not retried (default: every error is retried). */
  retryable?: (error: unknown) => boolean;
  /** The pause the server asked for (Retry-After), if any; the longer of it and the backoff is taken. */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Called before each pause; `attempt` is the one that just failed (1-based). */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  /** Checked after each retryable failure: return an Error to throw it instead of retrying. */
  shouldStop?: () => Error | undefined | Promise<Error | undefined>;
}

/** The deadline (or the attempt limit) came before success; each caller turns it into its own sentence. */
export class RetryExhausted extends Error {
  constructor(
    readonly attempts: number,
    readonly waitedMs: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempts in ${waitedMs}ms${lastError instanceof Error ? `: ${lastError.message}` : ''}`, { cause: lastError });
    this.name = 'RetryExhausted';
  }
}

/** The pause after failed attempt number `attempt` (1-based), before any Retry-After. */
export function nextDelay(attempt: number, backoff: Backoff = {}): number {
  const { initialDelayMs = 100, maxDelayMs = 2_000, factor = 2 } = backoff;
  // 0 × Infinity would be NaN once the exponent overflows.
  if (initialDelayMs <= 0) return 0;
  return Math.round(Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1)));
}

/**
 * The pause before the next attempt, or undefined when there is to be none: the attempt limit is
 * reached, or the pause would end at or after the deadline.
 */
export function plannedDelay(attempt: number, waitedMs: number, options: RetryOptions, retryAfterMs?: number): number | undefined {
  if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) return undefined;
  const delayMs = Math.max(nextDelay(attempt, options), retryAfterMs ?? 0);
  const leftMs = options.deadlineMs - waitedMs;
  if (delayMs < leftMs) return delayMs;
  return options.lastAttemptAtDeadline && leftMs > 0 ? leftMs : undefined;
}

/** `Retry-After` in its seconds form as milliseconds; undefined for a date or anything else. */
export function parseRetryAfter(value: unknown): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  return /^\s*\d+\s*$/.test(String(text)) ? Number(text) * 1_000 : undefined;
}

/**
 * Calls `fn` until it resolves, pausing with growing delays between attempts. `fn` gets the
 * attempt number (1-based) and the time left before the deadline (at least 1ms; `Infinity`
 * without a deadline), so that a request never outlives it. A non-retryable error leaves at
 * once; running out of time throws RetryExhausted carrying the last error.
 */
export async function retry<T>(fn: (attempt: number, remainingMs: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt, Math.max(1, options.deadlineMs - (clock.now() - started)));
    } catch (error) {
      options.signal?.throwIfAborted();
      if (options.retryable && !options.retryable(error)) throw error;
      const stop = await options.shouldStop?.();
      if (stop) throw stop;
      const waitedMs = clock.now() - started;
      const delayMs = plannedDelay(attempt, waitedMs, options, options.retryAfterMs?.(error));
      if (delayMs === undefined) throw new RetryExhausted(attempt, waitedMs, error);
      options.onRetry?.(attempt, error, delayMs);
      await pause(clock, delayMs, options.signal);
    }
  }
}

/** A pause that an abort ends at once, also with a clock that ignores the signal. */
async function pause(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return clock.sleep(ms);
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([clock.sleep(ms, signal), aborted]);
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
