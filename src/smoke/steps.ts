import type { AuditingClient } from '../clients/auditing.js';
import { redactUrl, resolveToken } from '../lib/config.js';
import { CliError } from '../lib/errors.js';
import type { HttpTarget, KafkaTarget } from '../lib/targets.js';
import { EVENTS_INDEX, PARCELS_INDEX } from '../servers/auditing/queries.js';
import type { Parcel } from '../servers/tracking/parcel.js';
import { ReadinessTimeout, waitFor } from '../stack/readiness.js';
import { OUTBOX_TOPIC } from '../stack/tasks.js';
import { pipelineLabel, remainingMs, type SeenEvent, type SmokeContext, type SmokeStep, type SmokeTargets, type StatsCounts, StepFailure } from './context.js';
import { diagnoseSink, diagnoseSource } from './diagnose.js';

/** The seed's sample request. */
export const SAMPLE_CONTENTS = 'Kotlin is cool';
const UPDATED_STATUS = 'in_transit';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const short = (id: string) => id.slice(0, 8);

/** The target a step needs; a missing one fails the step naming the stack or the context. */
function target<K extends keyof SmokeTargets>(ctx: SmokeContext, name: K): NonNullable<SmokeTargets[K]> {
  const found = ctx.targets[name];
  if (found) return found as NonNullable<SmokeTargets[K]>;
  if (ctx.external) throw new StepFailure(`context "${ctx.external.context}" names no ${name} endpoint.`);
  throw new StepFailure(`stack "${ctx.paths.name}" has no ${name} endpoint: that service is not running (start it with \`outboxctl up\`).`);
}

/** What to do about a 401 or 403 from the tracking or auditing server, as a clause. */
export function tokenFix(ctx: Pick<SmokeContext, 'paths' | 'external' | 'tokenFlag' | 'env'>, server: 'tracking' | 'auditing'): string {
  if (ctx.tokenFlag !== undefined || ctx.env.OUTBOXCTL_TOKEN) {
    const where = ctx.tokenFlag !== undefined ? '--token' : 'OUTBOXCTL_TOKEN';
    return `the token given with ${where} is not the ${server} server's; give that one (or leave ${where} out)`;
  }
  if (ctx.external) {
    const name = ctx.external.context;
    return `give context "${name}" the ${server} server's token (\`outboxctl context create ${name} --force … --${server}-token env:VAR\`), or pass --token`;
  }
  return "give the server's token with --token or OUTBOXCTL_TOKEN (a stack started with `up --token` records it for outboxctl)";
}

const refused = (status: number) => status === 401 || status === 403;

const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new StepFailure(`${what} is missing: an earlier step did not record it.`);
  return value;
};

const readEvents = (ctx: SmokeContext): [SeenEvent, SeenEvent] =>
  need(ctx.events.length === 2 ? (ctx.events as [SeenEvent, SeenEvent]) : undefined, 'the events read from Kafka');

/**
 * Polls `probe` until it holds or the run's deadline passes; a timeout names what the last
 * attempt saw and, from `diagnose`, why the pipeline is stuck.
 */
async function until<T>(ctx: SmokeContext, probe: () => Promise<T>, diagnose?: () => Promise<string>): Promise<T> {
  // A StepFailure from the probe is final (a wrong answer, not a late one): no more attempts.
  let final: StepFailure | undefined;
  // What the probe itself last said (the deadline may cut off the very last attempt).
  let lastSeen: unknown;
  const attempt = () =>
    probe().catch((error: unknown) => {
      // So is a refusal the user must fix (e.g. the search engine answering 401).
      if (error instanceof StepFailure || (error instanceof CliError && error.kind === 'user'))
        final = error instanceof StepFailure ? error : new StepFailure(error.message);
      lastSeen = error;
      throw error;
    });
  try {
    return await waitFor(attempt, {
      timeoutMs: remainingMs(ctx),
      // Short pauses: each step waits on a local pipeline that answers within a second, and a long
      // pause past its answer is the step's time lost.
      intervalMs: 100,
      maxIntervalMs: 250,
      abortIf: () => final ?? (ctx.signal.aborted ? new StepFailure('interrupted.') : undefined),
    });
  } catch (error) {
    if (!(error instanceof ReadinessTimeout)) throw error;
    const cause = lastSeen ?? error.lastError;
    const last = cause instanceof Error ? cause.message.replace(/\.$/, '') : 'no answer';
    const why = diagnose ? await diagnose().catch((e: Error) => `could not tell why: ${e.message}`) : undefined;
    throw new StepFailure(`${last} after ${seconds(error.waitedMs)}${why ? `: ${why}` : ''}.`, 'timeout');
  }
}

/** One auditing client per target (its token and TLS material read once), for every GET of the run. */
const auditingClients = new WeakMap<HttpTarget, AuditingClient>();

async function auditingClient(ctx: SmokeContext): Promise<AuditingClient> {
  const server = target(ctx, 'auditing');
  let client = auditingClients.get(server);
  if (!client) {
    const { AuditingClient } = await import('../clients/auditing.js');
    // The whole target: its bearer token, and for https its TLS options; each GET is cut off after 5 s.
    client = new AuditingClient(server, { timeoutMs: 5_000 });
    auditingClients.set(server, client);
  }
  return client;
}

/**
 * GET on the auditing server: the JSON of a 200, else an error with the problem's detail; a 401 or
 * 403 is final (a StepFailure with the fix): waiting does not change a token. Any other answer,
 * or none, is an Error a wait tries again.
 */
async function auditing<T>(ctx: SmokeContext, path: string): Promise<T> {
  const [client, { ServerAnswerError }] = await Promise.all([auditingClient(ctx), import('../clients/auditing.js')]);
  try {
    return await client.get<T>(path);
  } catch (error) {
    if (!(error instanceof ServerAnswerError)) throw error;
    const detail = error.detail ? ` (${error.detail})` : '';
    if (refused(error.status))
      throw new StepFailure(
        `the auditing server at ${redactUrl(client.baseUrl)} answered GET ${path.split('?')[0]} with ${error.status}${detail}: ${tokenFix(ctx, 'auditing')}.`,
      );
    throw new Error(`GET ${path} answered ${error.status}${detail}`);
  }
}

interface Stats {
  events: { total: number; byType: Record<string, number> };
  overTime: { count: number }[];
  parcels: { byStatus: Record<string, number> };
}

async function statsCounts(ctx: SmokeContext): Promise<StatsCounts> {
  const s = await auditing<Stats>(ctx, '/stats?interval=1d');
  return { byType: s.events.byType, byStatus: s.parcels.byStatus };
}

/** Endpoints of the local stack as targets; its one token goes to both servers. */
function stackTargets(endpoints: Record<string, string>, token: string | undefined): SmokeTargets {
  const http = (url: string | undefined): HttpTarget | undefined => (url ? { url } : undefined);
  const withToken = (url: string | undefined): HttpTarget | undefined => (url ? { url, ...(token ? { token } : {}) } : undefined);
  const kafka: KafkaTarget | undefined = endpoints.kafka ? { brokers: endpoints.kafka } : undefined;
  return {
    kafka,
    connect: http(endpoints.connect),
    elasticsearch: http(endpoints.elasticsearch),
    tracking: withToken(endpoints.tracking),
    auditing: withToken(endpoints.auditing),
  };
}

/**
 * What both first steps end with: parcel.outbox exists (only looked up, never created), its end
 * offsets, and the counts of `GET /stats` before the parcel is written.
 */
async function notePipeline(ctx: SmokeContext): Promise<string> {
  const { KafkaAdmin } = await import('../clients/kafka.js');
  const admin = await KafkaAdmin.connect(target(ctx, 'kafka'));
  try {
    await admin.requireTopic(OUTBOX_TOPIC);
    ctx.startOffsets = new Map((await admin.watermarks(OUTBOX_TOPIC)).map((w) => [w.partition, w.high]));
  } finally {
    await admin.close().catch(() => undefined);
  }
  ctx.baseline = await statsCounts(ctx).catch((error: Error) => {
    // A refused token (or TLS files that cannot be read) fails now, before the parcel is written: nothing is left behind for it.
    if (error instanceof StepFailure || (error instanceof CliError && error.kind === 'user')) throw error;
    ctx.warn(`the auditing server did not answer GET /stats at the start (${error.message}); the auditing-stats step will fail`);
    return undefined;
  });
  return `${OUTBOX_TOPIC} ends at ${[...ctx.startOffsets].map(([p, o]) => `${p}:${o}`).join(', ')}`;
}

const stack: SmokeStep = {
  name: 'stack',
  title: 'bring the stack up, or use the running one, and note the end of parcel.outbox',
  async run(ctx) {
    const [{ readState }, { runningServices }] = await Promise.all([import('../stack/state.js'), import('../stack/lifecycle.js')]);
    const state = await readState(ctx.paths);
    const running = await runningServices(state);
    let summary: string;
    let endpoints: Record<string, string>;
    // The running stack's readiness is asked while the pipeline is noted (both only read).
    let readiness: Promise<{ name: string; state: string }[]> | undefined;
    if (running.length === 0) {
      const { up } = await import('../stack/up.js');
      const result = await up({
        paths: ctx.paths,
        env: ctx.env,
        runtime: ctx.runtime,
        waitTimeoutMs: Math.min(180_000, remainingMs(ctx)),
        strictPorts: false,
        cwd: ctx.cwd,
        events: ctx.upEvents,
        signal: ctx.signal,
      });
      ctx.started = result.started.map((s) => ({ service: s.service, key: s.key }));
      endpoints = result.endpoints;
      summary = `started ${ctx.started.length} services of stack "${ctx.paths.name}" (${result.runtime})`;
    } else {
      const { stackStatus } = await import('../stack/lifecycle.js');
      readiness = stackStatus(ctx.paths).then((status) => status.services.filter((s) => s.state !== 'ready'));
      readiness.catch(() => undefined);
      endpoints = state!.endpoints;
      summary = `using the running stack "${ctx.paths.name}"`;
    }
    // After up: a stack it started records its token only then.
    const token = resolveToken({ flags: { token: ctx.tokenFlag }, env: ctx.env, state: await readState(ctx.paths) }).value;
    ctx.targets = stackTargets(endpoints, token);
    if (!readiness) return `${summary}; ${await notePipeline(ctx)}`;
    // The pipeline's warnings wait for the stack's, so they come in the order the steps meant.
    const warn = ctx.warn;
    const held: string[] = [];
    ctx.warn = (message) => held.push(message);
    const noted = notePipeline(ctx).finally(() => {
      ctx.warn = warn;
    });
    noted.catch(() => undefined);
    const release = () => {
      for (const message of held.splice(0)) warn(message);
    };
    const notReady = await readiness.catch(async (error: unknown) => {
      await noted.catch(() => undefined);
      release();
      throw error;
    });
    if (notReady.length > 0) warn(`stack "${ctx.paths.name}" runs without ${notReady.map((s) => `${s.name} (${s.state})`).join(', ')}; smoke uses it as it is`);
    summary += notReady.length ? ` (not ready: ${notReady.map((s) => s.name).join(', ')})` : '';
    const pipeline = await noted.finally(release);
    return `${summary}; ${pipeline}`;
  },
};

/**
 * The first step under a context: the deployed pipeline is used as it is (its targets were
 * resolved before the run); nothing is started, no local state is read.
 */
const externalPipeline: SmokeStep = {
  name: 'stack',
  title: 'use the external pipeline of the context as it is (nothing started), and note the end of parcel.outbox',
  async run(ctx) {
    return `external pipeline (${pipelineLabel(ctx)}), nothing started; ${await notePipeline(ctx)}`;
  },
};

/** The tracking server's client for the whole target: its bearer token, and for https its TLS options. */
async function trackingClient(ctx: SmokeContext) {
  const { TrackingClient } = await import('../clients/tracking.js');
  return new TrackingClient(target(ctx, 'tracking'));
}

/** A refused token from the tracking server as a StepFailure with the fix; anything else as it was. */
function trackingRefusal(ctx: SmokeContext, error: unknown): never {
  const status = (error as { status?: unknown } | null)?.status;
  if (
    error instanceof CliError &&
    ((typeof status === 'number' && refused(status)) || error.code === 'UNAUTHORIZED' || error.code === 'HTTP_401' || error.code === 'HTTP_403')
  )
    throw new StepFailure(`${error.message.replace(/\.$/, '')}: ${tokenFix(ctx, 'tracking')}.`);
  throw error;
}

function expectParcel(parcel: Parcel, want: { version: number; status: string; contents: string }, what: string): void {
  const wrong = (['version', 'status', 'contents'] as const).filter((k) => parcel[k] !== want[k]);
  if (wrong.length > 0)
    throw new StepFailure(`${what} answered ${wrong.map((k) => `${k} ${JSON.stringify(parcel[k])} (expected ${JSON.stringify(want[k])})`).join(', ')}.`);
}

const createParcel: SmokeStep = {
  name: 'create-parcel',
  title: `POST /api/parcel {"contents":"${SAMPLE_CONTENTS}"} (the seed's sample request)`,
  async run(ctx) {
    const parcel = await (await trackingClient(ctx)).create(SAMPLE_CONTENTS).catch((e: unknown) => trackingRefusal(ctx, e));
    expectParcel(parcel, { version: 1, status: 'registered', contents: SAMPLE_CONTENTS }, 'POST /api/parcel');
    ctx.created = parcel;
    return `parcel ${parcel.id}, version 1, registered`;
  },
};

const updateParcel: SmokeStep = {
  name: 'update-parcel',
  title: `PUT /api/parcel/:id: status ${UPDATED_STATUS} and new contents`,
  async run(ctx) {
    const id = need(ctx.created, 'the created parcel').id;
    const contents = `${SAMPLE_CONTENTS}, checked by outboxctl smoke ${ctx.token}`;
    const parcel = await (await trackingClient(ctx)).update(id, { status: UPDATED_STATUS, contents }).catch((e: unknown) => trackingRefusal(ctx, e));
    expectParcel(parcel, { version: 2, status: UPDATED_STATUS, contents }, `PUT /api/parcel/${id}`);
    ctx.updated = parcel;
    return `parcel ${short(id)} at version 2, ${UPDATED_STATUS}`;
  },
};

/** Reads parcel.outbox from the offsets noted before the parcel was written until both of its records are there. */
async function readRecords(ctx: SmokeContext, key: string): Promise<{ events: SeenEvent[]; scanned: number }> {
  const [{ PartitionReader }, { unwrapOutbox }] = await Promise.all([import('../clients/kafka-reader.js'), import('../tail/outbox.js')]);
  const positions = new Map(need(ctx.startOffsets, 'the end offsets of parcel.outbox'));
  // A reader without a consumer group: the run leaves no committed offsets behind.
  const reader = await PartitionReader.open(target(ctx, 'kafka'), OUTBOX_TOPIC);
  const events: SeenEvent[] = [];
  let scanned = 0;
  // A plain timer: Node 20 can collect an AbortSignal.timeout() held only by AbortSignal.any().
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), remainingMs(ctx));
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener('abort', onAbort);
  if (ctx.signal.aborted) stop.abort();
  try {
    for await (const batch of reader.batches(positions, { signal: stop.signal })) {
      for (const record of batch.records) {
        scanned++;
        if (record.key?.toString('utf8') !== key) continue;
        const event = unwrapOutbox(record);
        if (!event) throw new StepFailure(`record ${record.partition}/${record.offset} keyed ${key} is not an outbox event (no eventId field, no id header).`);
        // Debezium delivers at least once: a record repeated after a connector restart is the same event.
        if (events.some((e) => e.eventId === event.eventId)) continue;
        const payload = event.payload as { parcel?: { version?: number } } | null;
        events.push({ ...event, partition: record.partition, offset: record.offset, version: payload?.parcel?.version ?? null });
      }
      if (events.length >= 2) break;
    }
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    await reader.close();
  }
  return { events, scanned };
}

const kafkaRecords: SmokeStep = {
  name: 'kafka-records',
  title: `two records on ${OUTBOX_TOPIC} keyed by the parcel id, created then updated`,
  async run(ctx) {
    const id = need(ctx.updated, 'the updated parcel').id;
    const begin = Date.now();
    const { events, scanned } = await readRecords(ctx, id);
    if (events.length < 2) {
      if (ctx.signal.aborted) throw new StepFailure('interrupted.');
      const why = await diagnoseSource(ctx).catch((e: Error) => `could not tell why: ${e.message}`);
      throw new StepFailure(
        `${events.length} of 2 records keyed ${id} reached ${OUTBOX_TOPIC} after ${seconds(Date.now() - begin)} (${scanned} records read past the offsets noted before the write): ${why}.`,
        'timeout',
      );
    }
    const [first, second] = events as [SeenEvent, SeenEvent];
    const describe = (e: SeenEvent) => `${e.eventType ?? 'no type'} version ${e.version ?? '?'} at ${e.partition}/${e.offset}`;
    if (first.partition !== second.partition)
      throw new StepFailure(`the parcel's records are in two partitions (${describe(first)}, ${describe(second)}): the key does not choose the partition.`);
    if (first.eventType !== 'ParcelCreated' || first.version !== 1 || second.eventType !== 'ParcelUpdated' || second.version !== 2) {
      throw new StepFailure(`expected ParcelCreated version 1 then ParcelUpdated version 2, read ${describe(first)} then ${describe(second)}.`);
    }
    if (first.aggregateId !== id || second.aggregateId !== id)
      throw new StepFailure(`the records carry aggregate ids ${first.aggregateId} and ${second.aggregateId}, not the parcel id ${id}.`);
    ctx.events = [first, second];
    return `${describe(first)}, ${describe(second)}; event ids ${short(first.eventId)}…, ${short(second.eventId)}…`;
  },
};

const elasticsearchEvents: SmokeStep = {
  name: 'elasticsearch-events',
  title: `two event documents in the ${EVENTS_INDEX} index whose ids are the event ids`,
  async run(ctx) {
    const events = readEvents(ctx);
    const { SearchClient } = await import('../clients/search.js');
    const engine = target(ctx, 'elasticsearch');
    const client = await until(ctx, () => SearchClient.connect(engine, { deadlineMs: 5_000 }));
    try {
      await until(
        ctx,
        async () => {
          const docs = await Promise.all(
            events.map((e) => client.get<{ eventId?: string; aggregateId?: string; eventType?: string }>(EVENTS_INDEX, e.eventId)),
          );
          const missing = events.filter((_, i) => docs[i] === undefined);
          if (missing.length > 0)
            throw new Error(
              `${events.length - missing.length} of 2 event documents in index ${EVENTS_INDEX} (missing ${missing.map((e) => e.eventId).join(', ')})`,
            );
          docs.forEach((doc, i) => {
            const e = events[i]!;
            if (doc!.eventId !== e.eventId || doc!.aggregateId !== e.aggregateId || doc!.eventType !== e.eventType) {
              throw new StepFailure(
                `document ${e.eventId} holds ${JSON.stringify({ eventId: doc!.eventId, aggregateId: doc!.aggregateId, eventType: doc!.eventType })}, not the event read from Kafka.`,
              );
            }
          });
        },
        () => diagnoseSink(ctx),
      );
    } finally {
      await client.close();
    }
    ctx.documents.push(...events.map((e) => ({ index: EVENTS_INDEX, id: e.eventId })));
    return `documents ${events.map((e) => short(e.eventId)).join('…, ')}… in ${EVENTS_INDEX}`;
  },
};

interface ParcelsPage {
  items: { id: string; status: string; version: number; contents: string }[];
}

const auditingParcels: SmokeStep = {
  name: 'auditing-parcels',
  title: 'GET /parcels on the auditing server shows the updated parcel',
  async run(ctx) {
    const parcel = need(ctx.updated, 'the updated parcel');
    const found = await until(
      ctx,
      async () => {
        const page = await auditing<ParcelsPage>(ctx, `/parcels?q=${encodeURIComponent(ctx.token)}&size=10`);
        const item = page.items.find((p) => p.id === parcel.id);
        if (!item) throw new Error(`GET /parcels?q=${ctx.token} does not list parcel ${parcel.id} yet`);
        if (item.version !== 2 || item.status !== UPDATED_STATUS)
          throw new Error(`GET /parcels shows parcel ${parcel.id} at version ${item.version}, ${item.status} (expected version 2, ${UPDATED_STATUS})`);
        return item;
      },
      () => diagnoseSink(ctx),
    );
    // The auditing server lists parcels from the projection index, whose document id is the parcel id.
    ctx.documents.push({ index: PARCELS_INDEX, id: found.id });
    return `parcel ${short(found.id)} at version ${found.version}, ${found.status}, found by a word of its contents`;
  },
};

interface History {
  events: { eventId: string; eventType: string; version: number | null; changed: string[] }[];
}

const auditingHistory: SmokeStep = {
  name: 'auditing-history',
  title: 'GET /parcels/:id/history shows both events in order',
  async run(ctx) {
    const id = need(ctx.updated, 'the updated parcel').id;
    const want = readEvents(ctx).map((e) => e.eventId);
    const history = await until(
      ctx,
      async () => {
        const h = await auditing<History>(ctx, `/parcels/${encodeURIComponent(id)}/history`);
        const got = h.events.map((e) => e.eventId);
        if (got.length !== 2 || got[0] !== want[0] || got[1] !== want[1])
          throw new Error(
            `GET /parcels/${id}/history lists ${got.length} event${got.length === 1 ? '' : 's'} [${got.join(', ')}] (expected [${want.join(', ')}])`,
          );
        return h;
      },
      () => diagnoseSink(ctx),
    );
    return history.events.map((e) => `${e.eventType} v${e.version} (${e.changed.join(', ')})`).join(' → ');
  },
};

const auditingStats: SmokeStep = {
  name: 'auditing-stats',
  title: 'GET /stats counts both events and the updated parcel',
  async run(ctx) {
    const [first, second] = readEvents(ctx);
    const base = need(ctx.baseline, 'GET /stats at the start');
    const since = first.occurredAt;
    const until_ = new Date(Date.parse(second.occurredAt) + 1).toISOString();
    // Counts only grow while smoke runs (other writers may add to them): each must be up by at least one.
    const counted = (c: StatsCounts): Record<string, number> => ({
      ParcelCreated: c.byType.ParcelCreated ?? 0,
      ParcelUpdated: c.byType.ParcelUpdated ?? 0,
      [UPDATED_STATUS]: c.byStatus[UPDATED_STATUS] ?? 0,
    });
    const before = counted(base);
    const seen = await until(
      ctx,
      async () => {
        const now = counted(await statsCounts(ctx));
        const behind = Object.keys(before).filter((k) => now[k]! < before[k]! + 1);
        if (behind.length > 0) throw new Error(`GET /stats counts ${behind.map((k) => `${k} ${now[k]} (expected at least ${before[k]! + 1})`).join(', ')}`);
        const window = await auditing<Stats>(ctx, `/stats?interval=1m&since=${encodeURIComponent(since)}&until=${encodeURIComponent(until_)}`);
        const overTime = window.overTime.reduce((sum, b) => sum + b.count, 0);
        if ((window.events.byType.ParcelCreated ?? 0) < 1 || (window.events.byType.ParcelUpdated ?? 0) < 1)
          throw new Error(`GET /stats between the two events counts ${JSON.stringify(window.events.byType)}`);
        if (overTime !== window.events.total) throw new Error(`GET /stats counts ${window.events.total} events by type but ${overTime} over time`);
        return now;
      },
      () => diagnoseSink(ctx),
    );
    return `since the start: ${Object.keys(before)
      .map((k) => `${k} +${seen[k]! - before[k]!}`)
      .join(', ')}; the window of the two events agrees with its histogram`;
  },
};

const FLOW: readonly SmokeStep[] = [createParcel, updateParcel, kafkaRecords, elasticsearchEvents, auditingParcels, auditingHistory, auditingStats];

/** The seed's flow, in order; each step needs what the ones before it found. */
export const SMOKE_STEPS: readonly SmokeStep[] = [stack, ...FLOW];

/** The same flow against a deployed pipeline (`--context`): its first step starts nothing. */
export const CONTEXT_SMOKE_STEPS: readonly SmokeStep[] = [externalPipeline, ...FLOW];
