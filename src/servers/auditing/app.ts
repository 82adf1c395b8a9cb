import Fastify, { type FastifyInstance } from 'fastify';
import { reasonOf, SearchClient } from '../../clients/search.js';
import { redactUrl } from '../../lib/config.js';
import { CliError } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import { type HttpTarget, httpTarget } from '../../lib/targets.js';
import { clientErrorProblem, requireBearerToken, sendProblem as send } from '../http.js';
import { parcelIdProblem } from '../tracking/parcel.js';
import { problem } from '../tracking/problem.js';
import {
  EVENTS_INDEX,
  encodeCursor,
  eventsParams,
  eventsQuery,
  historyQuery,
  PARCELS_INDEX,
  ParameterError,
  parcelsParams,
  parcelsQuery,
  parseParams,
  statsParams,
  statsQueries,
} from './queries.js';

const log = createLogger('auditing');

export type AuditingServerOptions = {
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** Every route but /health wants `Authorization: Bearer <token>`; none: open. */
  token?: string;
} & (
  | { elasticsearchUrl: string }
  /** The search engine with its TLS and auth (a context's: a CA file, basic auth, an API key). */
  | { elasticsearch: HttpTarget }
);

export interface AuditingServer {
  url: string;
  close(): Promise<void>;
}

interface EventDoc {
  eventId: string;
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  occurredAt: number;
  payload: { parcel?: { version?: number }; changed?: string[] } & Record<string, unknown>;
}

const eventView = (e: EventDoc) => ({ ...e, occurredAt: new Date(e.occurredAt).toISOString() });

/** How long detecting the engine, and then each query, may retry an engine that does not answer. */
const CONNECT_DEADLINE_MS = 3_000;
const QUERY_DEADLINE_MS = 5_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * The engine did not answer before a retry deadline. The sentence gives the time really waited: the
 * retries stop as soon as the next pause would pass the deadline, which can be well before it.
 */
class EngineUnavailable extends Error {
  constructor(url: string, reason: string, waitedMs: number, deadlineMs: number) {
    const end = waitedMs < deadlineMs - 50 ? `, as another retry would pass the ${seconds(deadlineMs)} deadline` : ` at the ${seconds(deadlineMs)} deadline`;
    super(`Elasticsearch at ${redactUrl(url)} did not answer (${reason}): gave up after ${seconds(waitedMs)}${end}`);
  }
}

/** `fn` under a retry deadline; running out of it becomes an EngineUnavailable that says how long it took. */
async function withinDeadline<T>(url: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
  const begin = performance.now();
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CliError && error.code === 'SEARCH_UNREACHABLE')
      throw new EngineUnavailable(url, reasonOf(error.cause), performance.now() - begin, deadlineMs);
    throw error;
  }
}

/** Connects on first use (and again after a failure), so the server starts while the engine is still down. */
class Engine {
  private client?: Promise<SearchClient>;
  private readonly url: string;
  constructor(private readonly target: HttpTarget) {
    this.url = target.url;
  }

  private get(): Promise<SearchClient> {
    this.client ??= withinDeadline(this.url, CONNECT_DEADLINE_MS, () => SearchClient.connect(this.target, { deadlineMs: CONNECT_DEADLINE_MS })).then((c) =>
      c.withOptions({ deadlineMs: QUERY_DEADLINE_MS }),
    );
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }

  /** Runs `fn` on the connected client within the query deadline. */
  async use<T>(fn: (client: SearchClient) => Promise<T>): Promise<T> {
    const client = await this.get();
    return withinDeadline(this.url, QUERY_DEADLINE_MS, () => fn(client));
  }
}

/** Builds the Fastify app of the auditing server: structured Elasticsearch queries from validated parameters. */
export function buildAuditingApp(elasticsearch: string | HttpTarget, options: { token?: string } = {}): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true, clientErrorHandler: clientErrorProblem });
  if (options.token !== undefined) requireBearerToken(app, options.token);
  const target = httpTarget(elasticsearch);
  const elasticsearchUrl = redactUrl(target.url);
  const engine = new Engine({ ...target, url: target.url.replace(/\/$/, '') });
  // An index that does not exist yet (no event indexed so far) reads as empty.
  const search = <T>(index: string, body: Record<string, unknown>) =>
    engine.use((client) => client.search<T>(index, { ...body, ignore_unavailable: true, allow_no_indices: true }));
  const checkId = (id: string): string => {
    const bad = parcelIdProblem(id);
    if (bad) throw new ParameterError('id', bad);
    return id.toLowerCase();
  };

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ParameterError) return send(reply, problem('invalid-request', `${error.message}.`, { field: error.parameter }));
    if (error instanceof EngineUnavailable) {
      log('search engine unavailable: %s', error.message);
      return send(reply, problem('search-unavailable', `${error.message}.`));
    }
    if (error instanceof CliError && (error.kind === 'environment' || error.code === 'SEARCH_REJECTED')) {
      log('search engine unavailable: %s', error.message);
      return send(reply, problem('search-unavailable', `Elasticsearch at ${elasticsearchUrl} cannot answer: ${error.message}`));
    }
    log('internal error on %s %s: %O', request.method, request.url, error);
    return send(reply, problem('internal', 'The query failed.'));
  });
  app.setNotFoundHandler((request, reply) => send(reply, problem('not-found', `No route ${request.method} ${request.url.split('?')[0]}.`)));

  app.get('/health', async (_request, reply) => {
    try {
      const [client, health] = await engine.use(async (c) => [c, await c.health()] as const);
      return { status: 'ok', engine: { url: redactUrl(client.url), ...client.engine, cluster: health.status } };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', engine: { url: elasticsearchUrl, error: (error as Error).message } });
    }
  });

  app.get('/parcels', async (request) => {
    const p = parseParams(parcelsParams, request.query);
    const r = await search<Record<string, unknown>>(PARCELS_INDEX, parcelsQuery(p));
    const last = r.hits.at(-1);
    return { total: r.total, items: r.hits.map((h) => h.source), nextCursor: r.hits.length === p.size ? encodeCursor(last?.sort) : null };
  });

  app.get<{ Params: { id: string } }>('/parcels/:id', async (request, reply) => {
    const id = checkId(request.params.id);
    const r = await search<Record<string, unknown>>(PARCELS_INDEX, { size: 1, query: { ids: { values: [id] } } });
    if (r.hits.length === 0) return send(reply, problem('not-found', `No parcel ${id} in the ${PARCELS_INDEX} index.`));
    return r.hits[0]!.source;
  });

  app.get<{ Params: { id: string } }>('/parcels/:id/history', async (request, reply) => {
    const id = checkId(request.params.id);
    const r = await search<EventDoc>(EVENTS_INDEX, historyQuery(id));
    if (r.hits.length === 0) return send(reply, problem('not-found', `No events for parcel ${id}.`));
    return {
      parcelId: id,
      events: r.hits.map((h) => ({ ...eventView(h.source), version: h.source.payload.parcel?.version ?? null, changed: h.source.payload.changed ?? [] })),
    };
  });

  app.get('/events', async (request) => {
    const p = parseParams(eventsParams, request.query);
    const r = await search<EventDoc>(EVENTS_INDEX, eventsQuery(p));
    return { total: r.total, items: r.hits.map((h) => eventView(h.source)), nextCursor: r.hits.length === p.size ? encodeCursor(r.hits.at(-1)?.sort) : null };
  });

  app.get('/stats', async (request) => {
    const p = parseParams(statsParams, request.query);
    const q = statsQueries(p);
    const [events, parcels] = await Promise.all([search(EVENTS_INDEX, q.events), search(PARCELS_INDEX, q.parcels)]);
    type Buckets = { buckets?: { key: string | number; key_as_string?: string; doc_count: number }[] };
    const buckets = (aggs: Record<string, unknown>, name: string) => (aggs[name] as Buckets | undefined)?.buckets ?? [];
    return {
      interval: p.interval,
      events: { total: events.total, byType: Object.fromEntries(buckets(events.aggregations, 'byType').map((b) => [b.key, b.doc_count])) },
      overTime: buckets(events.aggregations, 'overTime').map((b) => ({ at: new Date(Number(b.key)).toISOString(), count: b.doc_count })),
      parcels: { total: parcels.total, byStatus: Object.fromEntries(buckets(parcels.aggregations, 'byStatus').map((b) => [b.key, b.doc_count])) },
    };
  });

  return app;
}

/** Starts the auditing server; `close()` stops it. */
export async function createAuditingServer(options: AuditingServerOptions): Promise<AuditingServer> {
  const app = buildAuditingApp('elasticsearch' in options ? options.elasticsearch : options.elasticsearchUrl, { token: options.token });
  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 5000 });
  return { url: address.replace('localhost', '127.0.0.1'), close: () => app.close() };
}
