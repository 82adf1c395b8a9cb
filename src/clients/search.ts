import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import type { Client, ClientOptions } from '@elastic/elasticsearch';
import type { TransportOptions } from '@elastic/transport';
import { EnvironmentError, UserError } from '../lib/errors.js';
import { networkCode, networkReason } from '../lib/network-errors.js';
import { RetryExhausted, retry } from '../lib/retry.js';
import { type HttpTarget, httpTarget } from '../lib/targets.js';
import {
  authorizationHeader,
  authRejectedError,
  basicCredentials,
  classifyTlsError,
  isPlainAtTlsPortBody,
  looksLikeGarbledHttp,
  PLAIN_TO_TLS,
  speaksTls,
  type TlsFailure,
  tlsError,
  tlsMaterial,
  withoutCredentials,
} from '../lib/tls-errors.js';

/** What answers at the URL, from `GET /`. */
export interface EngineInfo {
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  major: number;
}

/** Composable index templates exist in every OpenSearch and in Elasticsearch from 7.8 (the stack's 7.10.2 and 8.x have them). */
export function supportsComposableTemplates(engine: EngineInfo): boolean {
  if (engine.distribution === 'opensearch') return true;
  const [major = 0, minor = 0] = engine.version.split('.').map(Number);
  return major > 7 || (major === 7 && minor >= 8);
}

type Elastic = typeof import('@elastic/elasticsearch');
type ElasticTransport = typeof import('@elastic/transport');

const requireModule = createRequire(import.meta.url);
let elastic: Elastic | undefined;

/**
 * The @elastic client, loaded on first use: it costs a few hundred milliseconds of CPU, and a
 * command that only asks who answers and how healthy it is (`status`, readiness) never needs it.
 */
function loadElastic(): Elastic {
  elastic ??= requireModule('@elastic/elasticsearch') as Elastic;
  return elastic;
}

/** The names of the @elastic errors this module tells apart (only such an error needs the client's classes). */
const ELASTIC_ERROR_NAMES = new Set(['ConnectionError', 'TimeoutError', 'NoLivingConnectionsError', 'ResponseError']);

/** The client's error classes when `error` may be one of them (an error the client made: it is loaded already). */
function elasticErrors(error: unknown): Elastic['errors'] | undefined {
  return error instanceof Error && ELASTIC_ERROR_NAMES.has(error.name) ? loadElastic().errors : undefined;
}

/**
 * Elasticsearch 7.x and OpenSearch neither send `X-Elastic-Product` nor accept the
 * `compatible-with=8` media types of the v8 client: this transport turns both off.
 *
 * One client serves every engine rather than @opensearch-project/opensearch beside it: the calls
 * outboxctl makes (bulk with external versions, composable templates, search with search_after,
 * collapse and aggregations, count, get, refresh, health, cat) are the same REST API on
 * Elasticsearch 7.10 and 8.x and on OpenSearch 2.19, so a second client would mean a second set of
 * types and error classes for the retry and error mapping below. Without this transport the v8
 * client refuses OpenSearch 2.19 (ProductNotSupportedError) and OpenSearch answers 406 to its
 * media types; with it, test/external/opensearch.test.ts runs the pipeline on OpenSearch.
 */
let plainJsonTransport: ElasticTransport['Transport'] | undefined;
function PlainJsonTransport(): ElasticTransport['Transport'] {
  const { Transport } = requireModule('@elastic/transport') as ElasticTransport;
  plainJsonTransport ??= class PlainJsonTransport extends Transport {
    constructor(opts: TransportOptions) {
      super({
        ...opts,
        productCheck: undefined,
        vendoredHeaders: { jsonContentType: 'application/json', ndjsonContentType: 'application/x-ndjson', accept: 'application/json, text/plain' },
      });
    }
  };
  return plainJsonTransport;
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Connection refused/reset, timeouts, 429 and 5xx gateway answers: worth another try. */
export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  if ((error as { transient?: boolean }).transient || name === 'TimeoutError' || name === 'AbortError') return true;
  const errors = elasticErrors(error);
  if (errors && (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError))
    return true;
  if (errors && error instanceof errors.ResponseError) return TRANSIENT_STATUS.has(error.meta.statusCode ?? 0);
  return TRANSIENT_CODES.has(networkCode(error) ?? '') || /fetch failed/.test((error as Error).message ?? '');
}

/** The engine's own reason for a failed request, in one line. */
export function reasonOf(error: unknown): string {
  const errors = elasticErrors(error);
  if (errors && error instanceof errors.ResponseError) {
    const body = error.meta.body as { error?: { reason?: string; type?: string; root_cause?: { reason?: string }[] } } | undefined;
    return body?.error?.root_cause?.[0]?.reason ?? body?.error?.reason ?? `HTTP ${error.meta.statusCode}`;
  }
  return networkReason(error);
}

export interface SearchClientOptions {
  /** Total time a call may spend retrying transient failures. */
  deadlineMs?: number;
  /** Called before each retry (tests count them). */
  onRetry?: (attempt: number, error: unknown) => void;
}

export type BulkOperation =
  | {
      op: 'index';
      index: string;
      id: string;
      doc: Record<string, unknown> /** external version: an older one never overwrites */;
      version?: number;
      create?: boolean;
    }
  | { op: 'delete'; index: string; id: string };

export interface BulkItem {
  ok: boolean;
  status: number;
  type?: string;
  reason?: string;
}

export interface BulkItemResult {
  id: string;
  ok: boolean;
  status: number;
  error?: string;
}

/**
 * The one module through which outboxctl talks to a search engine: it detects the engine
 * once, adapts the v8 client to it, retries transient failures within a deadline and turns
 * everything else into a typed error carrying the engine's reason.
 */
export class SearchClient {
  private constructor(
    /** The engine's base URL without credentials: safe to print. */
    readonly url: string,
    readonly engine: EngineInfo,
    /** The @elastic client, made on the first request that needs it (shared by `withOptions` copies). */
    private readonly lazy: { client?: Client; make: () => Client },
    private readonly options: SearchClientOptions,
    /** The target as given: URL, TLS, basic auth or API key. */
    readonly target: HttpTarget,
  ) {}

  /** `GET /` once: which engine answers, or a typed error (transient ones carry `transient`). */
  static async detect(target: string | HttpTarget, timeoutMs = 5_000): Promise<EngineInfo> {
    const t = httpTarget(target);
    const url = withoutCredentials(t.url);
    let response: { status: number; body: string };
    try {
      response = await getOnce(t, timeoutMs);
    } catch (error) {
      throw (await accessFailure(t, error)) ?? error;
    }
    if (response.status === 429 || response.status >= 502) throw Object.assign(new Error(`GET / answered ${response.status}`), { transient: true });
    if (response.status === 401 || response.status === 403) throw authRejected(t, response.status);
    if (response.status === 400 && !url.startsWith('https:') && isPlainAtTlsPortBody(response.body)) throw searchTlsError(t, PLAIN_TO_TLS);
    if (response.status >= 400)
      throw new UserError('SEARCH_REJECTED', `The search engine at ${url} answered GET / with HTTP ${response.status}.`, {
        hint: 'Check the URL and its credentials.',
      });
    const body = parseJson(response.body) as { version?: { number?: string; distribution?: string } };
    if (!body.version?.number)
      throw new UserError('NOT_A_SEARCH_ENGINE', `${url} does not look like Elasticsearch or OpenSearch (GET / has no version).`, {
        hint: 'Point --elasticsearch-url at the HTTP port (usually 9200).',
      });
    const version = body.version?.number ?? '0';
    return { distribution: body.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch', version, major: Number(version.split('.')[0]) };
  }

  /** Detects the engine (retrying while it starts, within the deadline) and builds the client. */
  static async connect(target: string | HttpTarget, options: SearchClientOptions = {}): Promise<SearchClient> {
    const given = httpTarget(target);
    const t: HttpTarget = { ...given, url: given.url.replace(/\/+$/, '') };
    const engine = await retrying(t, options, (timeoutMs) => SearchClient.detect(t, Math.min(5_000, timeoutMs)));
    const native8 = engine.distribution === 'elasticsearch' && engine.major >= 8;
    const make = () =>
      new (loadElastic().Client)({ ...clientConnection(t), maxRetries: 0, requestTimeout: 30_000, ...(native8 ? {} : { Transport: PlainJsonTransport() }) });
    return new SearchClient(withoutCredentials(t.url), engine, { make }, options, t);
  }

  /** The same connection with other retry settings. */
  withOptions(options: SearchClientOptions): SearchClient {
    return new SearchClient(this.url, this.engine, this.lazy, { ...this.options, ...options }, this.target);
  }

  private get client(): Client {
    this.lazy.client ??= this.lazy.make();
    return this.lazy.client;
  }

  /** Every request gets only the time left before the deadline. */
  private call<T>(fn: (client: Client, options: { requestTimeout: number }) => Promise<T>): Promise<T> {
    return retrying(this.target, this.options, (requestTimeout) => fn(this.client, { requestTimeout }));
  }

  async health(): Promise<{ status: string; numberOfNodes: number }> {
    // One plain GET first (the client is not loaded for it); anything but a health document goes the client's way, retries and errors included.
    const plain = await getOnce(this.target, Math.min(5_000, this.options.deadlineMs ?? 30_000), '/_cluster/health').catch(() => undefined);
    if (plain?.status === 200) {
      const body = parseJson(plain.body) as { status?: unknown; number_of_nodes?: unknown };
      if (typeof body.status === 'string' && typeof body.number_of_nodes === 'number') return { status: body.status, numberOfNodes: body.number_of_nodes };
    }
    const h = await this.call((c, o) => c.cluster.health({}, o));
    return { status: h.status, numberOfNodes: h.number_of_nodes };
  }

  /** A composable template (`_index_template`) where the engine has them, else the legacy `_template` with the same settings and mappings. */
  async ensureIndexTemplate(name: string, indexPatterns: string[], template: Record<string, unknown>): Promise<void> {
    if (supportsComposableTemplates(this.engine)) await this.call((c, o) => c.indices.putIndexTemplate({ name, index_patterns: indexPatterns, template }, o));
    else await this.call((c, o) => c.indices.putTemplate({ name, index_patterns: indexPatterns, ...template }, o));
  }

  /** Indexes documents with chosen ids; one result per document, failures included. */
  async bulkIndex(index: string, docs: { id: string; doc: Record<string, unknown> }[], options: { refresh?: boolean } = {}): Promise<BulkItemResult[]> {
    const items = await this.bulk(
      docs.map(({ id, doc }) => ({ op: 'index', index, id, doc })),
      options,
    );
    return items.map((item, i) => ({ id: docs[i]!.id, ok: item.ok, status: item.status, error: item.ok ? undefined : `${item.type}: ${item.reason ?? ''}` }));
  }

  /** One bulk request of index/delete operations; one result per operation, in order. */
  async bulk(operations: BulkOperation[], options: { refresh?: boolean } = {}): Promise<BulkItem[]> {
    const body = operations.flatMap((o) => {
      if (o.op === 'delete') return [{ delete: { _index: o.index, _id: o.id } }];
      const meta = { _index: o.index, _id: o.id, ...(o.version !== undefined ? { version: o.version, version_type: 'external' as const } : {}) };
      return [{ [o.create ? 'create' : 'index']: meta }, o.doc];
    });
    const response = await this.call((c, opts) => c.bulk({ operations: body, refresh: options.refresh ? 'wait_for' : undefined }, opts));
    return response.items.map((item) => {
      const r = (item.index ?? item.create ?? item.delete)!;
      return { ok: !r.error, status: r.status, type: r.error?.type, reason: r.error?.reason ?? undefined };
    });
  }

  async get<T = Record<string, unknown>>(index: string, id: string): Promise<T | undefined> {
    try {
      const r = await this.call((c, o) => c.get<T>({ index, id }, o));
      return r.found ? r._source : undefined;
    } catch (error) {
      if (error instanceof UserError && error.code === 'SEARCH_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async count(index: string, query?: Record<string, unknown>): Promise<number> {
    return (await this.call((c, o) => c.count({ index, query }, o))).count;
  }

  async search<T = Record<string, unknown>>(
    index: string,
    body: Record<string, unknown>,
  ): Promise<{ total: number; hits: { id: string; source: T; sort?: unknown[] }[]; aggregations: Record<string, unknown> }> {
    const r = await this.call((c, o) => c.search<T>({ index, ...body, track_total_hits: true }, o));
    const total = typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0);
    return {
      total,
      hits: r.hits.hits.map((h) => ({ id: String(h._id), source: h._source as T, sort: h.sort })),
      aggregations: (r.aggregations ?? {}) as Record<string, unknown>,
    };
  }

  async refresh(index: string): Promise<void> {
    await this.call((c, o) => c.indices.refresh({ index }, o));
  }

  async listIndices(): Promise<{ index: string; docsCount: number; health: string }[]> {
    const rows = await this.call((c, o) => c.cat.indices({ format: 'json' }, o));
    return rows.map((r) => ({ index: String(r.index), docsCount: Number(r['docs.count'] ?? 0), health: String(r.health) }));
  }

  async close(): Promise<void> {
    // A client never made holds no connection.
    if (this.lazy.client) await this.lazy.client.close();
  }
}

/** Retries transient failures with growing pauses until the deadline; everything else is typed at once. */
async function retrying<T>(target: HttpTarget, options: SearchClientOptions, fn: (timeoutMs: number) => Promise<T>): Promise<T> {
  const deadlineMs = options.deadlineMs ?? 30_000;
  const url = withoutCredentials(target.url);
  try {
    return await retry(
      async (_attempt, remainingMs) => {
        try {
          return await fn(remainingMs);
        } catch (error) {
          // TLS and auth failures look like connection errors to the client: they are final.
          throw (await accessFailure(target, error)) ?? error;
        }
      },
      {
        deadlineMs,
        initialDelayMs: 100,
        factor: 2,
        maxDelayMs: 2_000,
        retryable: (error) => !(error instanceof UserError) && isTransient(error),
        onRetry: options.onRetry,
      },
    );
  } catch (error) {
    if (error instanceof RetryExhausted) {
      throw new EnvironmentError(
        'SEARCH_UNREACHABLE',
        `The search engine at ${url} did not answer within ${Math.round(deadlineMs / 1000)}s (${error.attempts} attempts): ${reasonOf(error.lastError)}.`,
        {
          hint: 'Is it running? `outboxctl status` shows it; --elasticsearch-url / ELASTICSEARCH_URL point elsewhere.',
          cause: error.lastError,
        },
      );
    }
    throw refusal(url, error);
  }
}

/** A failure not worth another try, as one sentence: the engine's refusal or what broke. */
function refusal(url: string, error: unknown): Error {
  const errors = elasticErrors(error);
  if (errors && error instanceof errors.ResponseError) {
    const status = error.meta.statusCode ?? 0;
    return new UserError(
      status === 404 ? 'SEARCH_NOT_FOUND' : 'SEARCH_REJECTED',
      `The search engine at ${url} refused the request (HTTP ${status}): ${reasonOf(error)}.`,
      { cause: error },
    );
  }
  if (error instanceof UserError) return error;
  return new EnvironmentError('SEARCH_FAILED', `The request to the search engine at ${url} failed: ${reasonOf(error)}.`, { cause: error });
}

const SYSTEM = 'the search engine';

function authRejected(target: HttpTarget, status: number, cause?: unknown): UserError {
  return authRejectedError('SEARCH_AUTH', 'The search engine', target, status, {
    hint: 'Credentials go in the URL (https://USER:PASSWORD@HOST:PORT) or a context (`outboxctl context create NAME --elasticsearch-username U --elasticsearch-password env:VAR` or `--elasticsearch-api-key env:VAR`).',
    cause,
  });
}

function searchTlsError(target: HttpTarget, failure: TlsFailure, cause?: unknown): UserError {
  return tlsError('SEARCH_TLS', SYSTEM, target, failure, {
    hint: 'A context carries the CA and client certificate: `outboxctl context create NAME --elasticsearch-url https://… --elasticsearch-ca FILE`.',
    cause,
  });
}

/** A TLS or auth failure as its one sentence; undefined for anything else (retried or typed later). */
async function accessFailure(target: HttpTarget, error: unknown): Promise<UserError | undefined> {
  if (error instanceof UserError) return error;
  const errors = elasticErrors(error);
  if (errors && error instanceof errors.ResponseError) {
    const status = error.meta.statusCode ?? 0;
    if (status === 401 || status === 403) return authRejected(target, status, error);
    if (status === 400 && !target.url.startsWith('https:') && isPlainAtTlsPortBody(error.meta.body)) return searchTlsError(target, PLAIN_TO_TLS, error);
    return undefined;
  }
  const https = target.url.startsWith('https:');
  const tls = classifyTlsError(error, { caFile: target.tls?.caFile, usingTls: https, caOption: "a context's --elasticsearch-ca FILE" });
  if (tls) return searchTlsError(target, tls, error);
  if (!https && looksLikeGarbledHttp(error) && (await speaksTls(target.url))) return searchTlsError(target, PLAIN_TO_TLS, error);
  return undefined;
}

/** The @elastic client's node, auth and TLS for a target. */
function clientConnection(target: HttpTarget): Pick<ClientOptions, 'node' | 'auth' | 'tls'> {
  const basic = basicCredentials(target);
  const url = withoutCredentials(target.url);
  return {
    node: url,
    ...(basic ? { auth: basic } : target.apiKey ? { auth: { apiKey: target.apiKey } } : target.token ? { auth: { bearer: target.token } } : {}),
    ...(url.startsWith('https:') ? { tls: tlsMaterial(target.tls, SYSTEM) } : {}),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** One GET of `path` (default `/`) with the target's auth and TLS, bounded by `timeoutMs` from start to last byte. */
function getOnce(target: HttpTarget, timeoutMs: number, path = '/'): Promise<{ status: number; body: string }> {
  const url = new URL(withoutCredentials(target.url));
  if (path !== '/') url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  const https = url.protocol === 'https:';
  const authorization = authorizationHeader(target);
  const headers: Record<string, string> = { accept: 'application/json', ...(authorization ? { authorization } : {}) };
  const tls = https ? tlsMaterial(target.tls, SYSTEM) : {};
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(url, { method: 'GET', headers, agent: false, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error(`GET ${path} timed out after ${timeoutMs}ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  });
}
