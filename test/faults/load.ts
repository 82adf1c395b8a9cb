import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from './ledger.js';

/**
 * The fault suite's load: creates and updates of parcels through the tracking server at a steady
 * rate, open loop (a stalled server does not slow the schedule down), about one create to two
 * updates. Every logical write is retried as the same request — the same Idempotency-Key and body
 * for a create, the same If-Match and body for an update — after a connection error, a timeout
 * or a 5xx, until the load is stopped and then until the drain deadline.
 */

export interface LoadOptions {
  trackingUrl: string;
  /** Prefix of every idempotency key and parcel contents: the writes of one scenario. */
  tag: string;
  ledger: Ledger;
  /** Logical writes started per second (50). */
  ratePerSecond?: number;
  /** Per-request timeout (2 s). */
  requestTimeoutMs?: number;
  /** Writes waiting for an answer beyond which no new one starts (a long outage must not grow without bound). */
  maxInFlight?: number;
}

export interface LoadRun {
  /** Stops starting writes; waits for those under way, retrying them until `drainMs` from now. */
  stop(drainMs: number): Promise<void>;
  /** Writes started and not yet answered. */
  inFlight(): number;
}

interface TrackedParcel {
  id: string;
  index: number;
  version: number;
  busy: boolean;
}

type Attempt = { status: number; body: Record<string, unknown> } | { error: string };

const STATUSES = ['registered', 'in_transit', 'delivered', 'returned'] as const;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 1_000;

/** Starts the load; `stop()` ends it. */
export function startLoad(options: LoadOptions): LoadRun {
  const { trackingUrl, tag, ledger } = options;
  const rate = options.ratePerSecond ?? 50;
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const maxInFlight = options.maxInFlight ?? 2_000;
  const parcels: TrackedParcel[] = [];
  const running = new Set<Promise<void>>();
  let deadlineMs = Number.POSITIVE_INFINITY;
  let started = 0;
  let creates = 0;
  const begin = Date.now();

  async function request(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Attempt> {
    ledger.stats.requests++;
    try {
      const response = await fetch(`${trackingUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = { text };
      }
      return { status: response.status, body: parsed };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      return { error: e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : (e.cause?.code ?? e.name) };
    }
  }

  /** Sends one logical write until it gets an answer that is not transient; undefined when the deadline passed first. */
  async function send(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ attempt: Attempt; attempts: number } | undefined> {
    for (let attempts = 1; ; attempts++) {
      const attempt = await request(method, path, body, headers);
      const transient = 'error' in attempt || attempt.status >= 500 || attempt.status === 429;
      if (!transient) return { attempt, attempts };
      ledger.failure('error' in attempt ? attempt.error : `HTTP ${attempt.status}`);
      const waitMs = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempts - 1, 4)) * (0.5 + Math.random() / 2);
      if (Date.now() + waitMs > deadlineMs) return undefined;
      await sleep(waitMs);
      ledger.stats.retries++;
    }
  }

  async function create(index: number): Promise<void> {
    const key = `${tag}:key:${index}`;
    const contents = `${tag}:p${index}:v1`;
    const answer = await send('POST', '/api/parcel', { contents }, { 'Idempotency-Key': key });
    if (!answer) return void ledger.stats.abandoned++;
    const { attempt, attempts } = answer;
    if ('error' in attempt || attempt.status !== 201) {
      return ledger.unexpected(`POST ${key}: ${JSON.stringify(attempt).slice(0, 300)}`);
    }
    const parcel = attempt.body as { id: string; version: number; contents: string };
    if (parcel.version !== 1 || parcel.contents !== contents) ledger.unexpected(`POST ${key} answered ${JSON.stringify(parcel)}`);
    ledger.ack({ parcelId: parcel.id, version: parcel.version, kind: 'create', idempotencyKey: key, attempts, ackedAtMs: Date.now() });
    parcels.push({ id: parcel.id, index, version: parcel.version, busy: false });
  }

  async function update(parcel: TrackedParcel): Promise<void> {
    parcel.busy = true;
    try {
      const ifMatch = parcel.version;
      const next = ifMatch + 1;
      const body = { contents: `${tag}:p${parcel.index}:v${next}`, status: STATUSES[next % STATUSES.length] };
      const answer = await send('PUT', `/api/parcel/${parcel.id}`, body, { 'If-Match': `"${ifMatch}"` });
      if (!answer) return void ledger.stats.abandoned++;
      const { attempt, attempts } = answer;
      if ('error' in attempt) return;
      if (attempt.status === 200) {
        const version = Number(attempt.body.version);
        if (version !== next) ledger.unexpected(`PUT ${parcel.id} If-Match ${ifMatch} answered version ${version}`);
        ledger.ack({ parcelId: parcel.id, version, kind: 'update', attempts, ackedAtMs: Date.now() });
        parcel.version = version;
      } else if (attempt.status === 412) {
        // After a lost answer the retry meets the version its first attempt wrote; on a first attempt nothing explains it.
        const current = Number(attempt.body.currentVersion);
        if (attempts > 1 && current === next) ledger.stats.ambiguousUpdates++;
        else ledger.unexpected(`PUT ${parcel.id} If-Match ${ifMatch} (attempt ${attempts}): 412 at version ${current}`);
        parcel.version = current;
      } else {
        ledger.unexpected(`PUT ${parcel.id} If-Match ${ifMatch}: ${JSON.stringify(attempt).slice(0, 300)}`);
      }
    } finally {
      parcel.busy = false;
    }
  }

  function startOne(): void {
    if (running.size >= maxInFlight) return;
    const idle = parcels.filter((p) => !p.busy);
    const op = started++ % 3 === 0 || idle.length === 0 ? create(creates++) : update(idle[Math.floor(Math.random() * idle.length)]!);
    const tracked = op.catch((error: unknown) => ledger.unexpected(`load generator: ${String(error)}`)).finally(() => running.delete(tracked));
    running.add(tracked);
  }

  // Catch up with the schedule after a stalled event loop, a few writes per tick at most.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - begin) / 1000) * rate);
    for (let i = 0; started < due && i < 5; i++) startOne();
    if (started < due) started = due;
  }, 10);

  return {
    inFlight: () => running.size,
    async stop(drainMs) {
      clearInterval(timer);
      deadlineMs = Date.now() + drainMs;
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
