import net from 'node:net';
import { type Clock, systemClock } from '../lib/clock.js';
import { networkReason } from '../lib/network-errors.js';
import { RetryExhausted, retry } from '../lib/retry.js';
import type { ProbeContext, Readiness } from './components/types.js';

export { type Clock, systemClock } from '../lib/clock.js';

export interface WaitOptions {
  timeoutMs: number;
  /** First pause between attempts; grows ×1.5 up to `maxIntervalMs`. */
  intervalMs?: number;
  maxIntervalMs?: number;
  clock?: Clock;
  /** Ends the wait at once (also a pause or a probe in progress) with the signal's reason. */
  signal?: AbortSignal;
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
 * Polls `probe` until it resolves, with growing pauses, until the deadline (the last attempt runs
 * at it). Returns the probe's value; throws ReadinessTimeout carrying the last failure.
 */
export async function waitFor<T>(probe: () => Promise<T>, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  try {
    // A probe that hangs is cut off at the deadline, not after its own timeouts.
    return await retry((_, remainingMs) => raceDeadline(probe(), remainingMs, clock), {
      deadlineMs: options.timeoutMs,
      initialDelayMs: options.intervalMs ?? 100,
      maxDelayMs: options.maxIntervalMs ?? 1_000,
      factor: 1.5,
      clock,
      signal: options.signal,
      shouldStop: options.abortIf,
      lastAttemptAtDeadline: true,
    });
  } catch (error) {
    if (error instanceof RetryExhausted) throw new ReadinessTimeout(error.waitedMs, error.lastError);
    throw error;
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

/** One evaluation of a component's readiness from the host; rejects with the reason while not ready. */
export async function checkReadiness(readiness: Readiness, at: ProbeContext, timeoutMs = 2_000): Promise<void> {
  const check = readiness.check;
  switch (check.kind) {
    case 'port':
      return probePort(at.host, at.ports[check.port ?? 'main']!, timeoutMs);
    case 'http':
      return probeHttp(`http://${at.host}:${at.ports[check.port ?? 'main']}${check.path}`, check.statuses ?? [200], check.expect, timeoutMs);
    case 'log': {
      const lines = await at.logs();
      if (!lines.some((line) => check.pattern.test(line))) throw new Error(`log line matching ${check.pattern} not written yet`);
      return;
    }
    case 'query':
      return check.run(at);
  }
}

/** Resolves once `host:port` accepts a TCP connection; rejects with the reason otherwise. */
export function probePort(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => socket.destroy(new Error(`port ${port} did not accept within ${timeoutMs}ms`)));
    socket.once('error', (error) => reject(new Error(`port ${port}: ${networkReason(error)}`)));
  });
}

async function probeHttp(url: string, statuses: number[], expect: ((body: unknown) => string | undefined) | undefined, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { Accept: 'application/json' } });
  } catch (error) {
    throw new Error(`GET ${url}: ${networkReason((error as { cause?: unknown }).cause ?? error)}`);
  }
  const text = await response.text();
  if (!statuses.includes(response.status)) throw new Error(`GET ${url} answered ${response.status}`);
  if (!expect) return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} did not answer JSON`);
  }
  const problem = expect(body);
  if (problem) throw new Error(problem);
}
