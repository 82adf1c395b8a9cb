import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/clients/connect.js';
import { unreachable } from '../../src/clients/kafka.js';
import { reasonOf } from '../../src/clients/search.js';
import type { Clock } from '../../src/lib/clock.js';
import { isNetworkError, networkCode, networkReason } from '../../src/lib/network-errors.js';
import { nextDelay, parseRetryAfter, plannedDelay, RetryExhausted, retry } from '../../src/lib/retry.js';
import { isDatabaseUnavailable } from '../../src/servers/tracking/problem.js';

/** Time that only moves when someone sleeps; every pause is recorded. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('nextDelay', () => {
  it('grows by the factor from the first pause and stops at the cap', () => {
    const connect = { initialDelayMs: 200, factor: 1.6, maxDelayMs: 2_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nextDelay(n, connect))).toEqual([200, 320, 512, 819, 1311, 2_000, 2_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => nextDelay(n))).toEqual([100, 200, 400, 800, 1_600, 2_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => nextDelay(n, { initialDelayMs: 1_000, factor: 2, maxDelayMs: 10_000 }))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('stays at the cap however many attempts failed, and a zero first pause stays zero', () => {
    expect(nextDelay(100_000, { initialDelayMs: 500, factor: 2, maxDelayMs: 10_000 })).toBe(10_000);
    expect(nextDelay(100_000, { initialDelayMs: 0, factor: 2 })).toBe(0);
  });
});

describe('plannedDelay', () => {
  const options = { deadlineMs: 1_000, initialDelayMs: 300, factor: 1, maxDelayMs: 300 };
  it('gives up when the pause would reach the deadline, unless the last attempt is to run at it', () => {
    expect(plannedDelay(1, 0, options)).toBe(300);
    expect(plannedDelay(3, 700, options)).toBeUndefined();
    expect(plannedDelay(3, 800, { ...options, lastAttemptAtDeadline: true })).toBe(200);
    expect(plannedDelay(4, 1_000, { ...options, lastAttemptAtDeadline: true })).toBeUndefined();
  });

  it('takes the longer of backoff and Retry-After, and stops at the attempt limit', () => {
    expect(plannedDelay(1, 0, options, 600)).toBe(600);
    expect(plannedDelay(1, 0, options, 50)).toBe(300);
    expect(plannedDelay(1, 0, options, 5_000)).toBeUndefined();
    expect(plannedDelay(2, 0, { ...options, deadlineMs: Infinity, maxAttempts: 2 })).toBeUndefined();
    expect(plannedDelay(1, 0, { ...options, deadlineMs: Infinity, maxAttempts: 2 })).toBe(300);
  });
});

describe('parseRetryAfter', () => {
  it('reads the seconds form only', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter(['2'])).toBe(2_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('retry with a fake clock', () => {
  it('pauses with growing delays until an attempt succeeds; fn sees the attempt and the time left', async () => {
    const clock = fakeClock();
    const seen: [number, number][] = [];
    const retried: [number, number][] = [];
    const result = await retry(
      async (attempt, remainingMs) => {
        seen.push([attempt, remainingMs]);
        if (attempt < 4) throw refused();
        return 'ok';
      },
      { deadlineMs: 10_000, initialDelayMs: 100, factor: 2, clock, onRetry: (attempt, _error, delayMs) => retried.push([attempt, delayMs]) },
    );
    expect(result).toBe('ok');
    expect(clock.slept).toEqual([100, 200, 400]);
    expect(retried).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
    ]);
    expect(seen).toEqual([
      [1, 10_000],
      [2, 9_900],
      [3, 9_700],
      [4, 9_300],
    ]);
  });

  it('throws RetryExhausted with the attempts, the time waited and the last error when the deadline comes first', async () => {
    const clock = fakeClock();
    let n = 0;
    const failing = retry(
      async () => {
        throw new Error(`failure ${++n}`);
      },
      { deadlineMs: 1_000, initialDelayMs: 200, factor: 1.6, maxDelayMs: 2_000, clock },
    );
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhausted);
    const exhausted = error as RetryExhausted;
    // 200 + 320 = 520 waited; the next pause (512) would end at 1032ms, past the deadline.
    expect(exhausted.attempts).toBe(3);
    expect(exhausted.waitedMs).toBe(520);
    expect((exhausted.lastError as Error).message).toBe('failure 3');
    expect(exhausted.message).toBe('gave up after 3 attempts in 520ms: failure 3');
  });

  it('with lastAttemptAtDeadline makes a final attempt exactly at the deadline (readiness)', async () => {
    const clock = fakeClock();
    let attempts = 0;
    const error = (await retry(
      async () => {
        attempts++;
        throw refused();
      },
      { deadlineMs: 5_000, initialDelayMs: 100, factor: 1.5, maxDelayMs: 1_000, clock, lastAttemptAtDeadline: true },
    ).catch((e: unknown) => e)) as RetryExhausted;
    expect(error).toBeInstanceOf(RetryExhausted);
    expect(error.waitedMs).toBe(5_000);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(error.attempts).toBe(attempts);
  });

  it('rethrows a non-retryable error at once, and stops when shouldStop returns an error', async () => {
    const clock = fakeClock();
    const fatal = new Error('bad request');
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { deadlineMs: 10_000, clock, retryable: (e) => e !== fatal },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(clock.slept).toEqual([]);

    const gone = new Error('the process died');
    let checks = 0;
    await expect(
      retry(async () => Promise.reject(refused()), { deadlineMs: 10_000, clock, shouldStop: async () => (++checks === 2 ? gone : undefined) }),
    ).rejects.toBe(gone);
    expect(clock.slept).toEqual([100]);
  });

  it('honours Retry-After when it asks for more than the backoff', async () => {
    const clock = fakeClock();
    let n = 0;
    await retry(
      async () => {
        if (++n < 3) throw Object.assign(new Error('busy'), { retryAfterMs: n === 1 ? 3_000 : 10 });
        return n;
      },
      { deadlineMs: 60_000, initialDelayMs: 100, clock, retryAfterMs: (e) => (e as { retryAfterMs?: number }).retryAfterMs },
    );
    expect(clock.slept).toEqual([3_000, 200]);
  });

  it("an abort ends the pause at once with the signal's reason, even with a clock that never wakes", async () => {
    const controller = new AbortController();
    const never: Clock = { now: () => 0, sleep: () => new Promise<void>(() => undefined) };
    const stopped = new Error('stopping');
    const running = retry(async () => Promise.reject(refused()), {
      deadlineMs: Infinity,
      clock: never,
      signal: controller.signal,
      onRetry: () => queueMicrotask(() => controller.abort(stopped)),
    });
    await expect(running).rejects.toBe(stopped);
    await expect(retry(async () => 'never called', { deadlineMs: Infinity, signal: controller.signal })).rejects.toBe(stopped);
  });

  it('without a deadline it goes on for as long as it takes', async () => {
    const clock = fakeClock();
    let n = 0;
    expect(
      await retry(async () => (++n < 50 ? Promise.reject(refused()) : n), { deadlineMs: Infinity, initialDelayMs: 500, factor: 2, maxDelayMs: 10_000, clock }),
    ).toBe(50);
    expect(clock.slept.slice(0, 6)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000]);
    expect(clock.slept).toHaveLength(49);
  });
});

describe('network errors', () => {
  it('finds the code on the error, its cause, inside an AggregateError, or in the message', () => {
    expect(networkCode(refused())).toBe('ECONNREFUSED');
    expect(networkCode(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) }))).toBe(
      'UND_ERR_CONNECT_TIMEOUT',
    );
    const aggregate = Object.assign(new AggregateError([Object.assign(new Error(''), { code: 'ECONNREFUSED' })], ''), { code: undefined });
    expect(networkCode(Object.assign(new Error(''), { code: 'ERR_NETWORK', cause: aggregate }))).toBe('ECONNREFUSED');
    expect(networkCode(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe('ECONNREFUSED');
    expect(networkCode(Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }))).toBeUndefined();
    expect(networkCode(Object.assign(new Error('nope'), { code: 'SEARCH_REJECTED' }))).toBeUndefined();
    expect(networkCode(undefined)).toBeUndefined();
    expect(isNetworkError(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBe(true);
    expect(isNetworkError(new Error('boom'))).toBe(false);
  });

  it('says refused, reset, timed out or unknown host, else the message without its final period', () => {
    expect(networkReason(refused())).toBe('connection refused');
    expect(networkReason(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('connection reset');
    expect(networkReason(Object.assign(new Error('timeout of 15000ms exceeded'), { code: 'ECONNABORTED' }))).toBe('timed out');
    expect(networkReason(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBe('timed out');
    expect(networkReason(Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }))).toBe('unknown host');
    expect(networkReason(Object.assign(new Error('x'), { code: 'EAI_AGAIN' }))).toBe('unknown host');
    expect(networkReason(new Error('The operation was aborted due to timeout.'))).toBe('The operation was aborted due to timeout');
    expect(networkReason(Object.assign(new Error(''), { code: 'ERR_BAD_RESPONSE' }))).toBe('ERR_BAD_RESPONSE');
    expect(networkReason('plain string')).toBe('plain string');
  });

  it('every client ends its sentence the same way', () => {
    expect(unreachable('127.0.0.1:1', new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1')).message).toBe(
      'Cannot reach Kafka at 127.0.0.1:1: connection refused.',
    );
    expect(unreachable('k:9092', new Error('Broker not available.')).message).toBe('Cannot reach Kafka at k:9092: Broker not available.');
    expect(reasonOf(new TypeError('fetch failed', { cause: refused() }))).toBe('connection refused');
    expect(isDatabaseUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});

describe('the Connect client honours Retry-After', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('waits what a 429 or 503 asks for, then answers', async () => {
    let n = 0;
    server = createServer((_req, res) => {
      n++;
      if (n === 1) res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' }).end(JSON.stringify({ message: 'slow down' }));
      else if (n === 2) res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify({ message: 'starting' }));
      else res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const clock = fakeClock();
    const reasons: string[] = [];
    expect(await new ConnectClient(url, { clock, onRetry: (_a, reason) => reasons.push(reason) }).names()).toEqual([]);
    expect(clock.slept).toEqual([3_000, 1_000]);
    expect(reasons).toEqual(['HTTP 429: slow down', 'HTTP 503: starting']);
  });
});
