import { Client, errors } from '@elastic/elasticsearch';
import { Transport, type TransportOptions } from '@elastic/transport';
import { EnvironmentError, UserError } from '../lib/errors.js';
import { networkCode, networkReason } from '../lib/network-errors.js';
import { RetryExhausted, retry } from '../lib/retry.js';

/** What answers at the URL, from `GET /`. */
export interface EngineInfo {
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  major: number;
}

/**
 * Elasticsearch 7.x and OpenSearch neither send `X-Elastic-Product` nor accept the
 * `compatible-with=8` media types of the v8 client: this transport turns both off.
 */
class PlainJsonTransport extends Transport {
  constructor(opts: TransportOptions) {
    super({
      ...opts,
      productCheck: undefined,
      vendoredHeaders: { jsonContentType: 'application/json', ndjsonContentType: 'application/x-ndjson', accept: 'application/json, text/plain' },
    });
  }
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Connection refused/reset, timeouts, 429 and 5xx gateway answers: worth another try. */
export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  if ((error as { transient?: boolean }).transient || name === 'TimeoutError' || name === 'AbortError') return true;
  if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError) return true;
  if (error instanceof errors.ResponseError) return TRANSIENT_STATUS.has(error.meta.statusCode ?? 0);
  return TRANSIENT_CODES.has(networkCode(error) ?? '') || /fetch failed/.test((error as Error).message ?? '');
}

/** The engine's own reason for a failed request, in one line. */
export function reasonOf(error: unknown): string {
  if (error instanceof errors.ResponseError) {
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
    readonly url: string,
    readonly engine: EngineInfo,
    private readonly client: Client,
    private readonly options: SearchClientOptions,
  ) {}

  static async detect(url: string, timeoutMs = 5_000): Promise<EngineInfo> {
    // fetch refuses URLs with credentials: send them as a Basic header instead.
    const target = new URL(url);
    const headers: Record<string, string> = {};
    if (target.username) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    const response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), headers });
    if (response.status === 429 || response.status >= 502) throw Object.assign(new Error(`GET / answered ${response.status}`), { transient: true });
    if (!response.ok)
      throw new UserError('SEARCH_REJECTED', `The search engine at ${url} answered GET / with HTTP ${response.status}.`, {
        hint: 'Check the URL and its credentials.',
      });
    const body = (await response.json().catch(() => ({}))) as { version?: { number?: string; distribution?: string } };
    if (!body.version?.number)
      throw new UserError('NOT_A_SEARCH_ENGINE', `${url} does not look like Elasticsearch or OpenSearch (GET / has no version).`, {
        hint: 'Point --elasticsearch-url at the HTTP port (usually 9200).',
      });
    const version = body.version?.number ?? '0';
    return { distribution: body.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch', version, major: Number(version.split('.')[0]) };
  }

  /** Detects the engine (retrying while it starts, within the deadline) and builds the client. */
  static async connect(url: string, options: SearchClientOptions = {}): Promise<SearchClient> {
    const base = url.replace(/\/$/, '');
    const engine = await retrying(base, options, (timeoutMs) => SearchClient.detect(base, Math.min(5_000, timeoutMs)));
    const native8 = engine.distribution === 'elasticsearch' && engine.major >= 8;
    const client = new Client({ node: base, maxRetries: 0, requestTimeout: 30_000, ...(native8 ? {} : { Transport: PlainJsonTransport }) });
    return new SearchClient(base, engine, client, options);
  }

  /** The same connection with other retry settings. */
  withOptions(options: SearchClientOptions): SearchClient {
    return new SearchClient(this.url, this.engine, this.client, { ...this.options, ...options });
  }

  /** Every request gets only the time left before the deadline. */
  private call<T>(fn: (client: Client, options: { requestTimeout: number }) => Promise<T>): Promise<T> {
    return retrying(this.url, this.options, (requestTimeout) => fn(this.client, { requestTimeout }));
  }

  async health(): Promise<{ status: string; numberOfNodes: number }> {
    const h = await this.call((c, o) => c.cluster.health({}, o));
    return { status: h.status, numberOfNodes: h.number_of_nodes };
  }

  async ensureIndexTemplate(name: string, indexPatterns: string[], template: Record<string, unknown>): Promise<void> {
    await this.call((c, o) => c.indices.putIndexTemplate({ name, index_patterns: indexPatterns, template }, o));
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
    await this.client.close();
  }
}

/** Retries transient failures with growing pauses until the deadline; everything else is typed at once. */
async function retrying<T>(url: string, options: SearchClientOptions, fn: (timeoutMs: number) => Promise<T>): Promise<T> {
  const deadlineMs = options.deadlineMs ?? 30_000;
  try {
    return await retry((_attempt, remainingMs) => fn(remainingMs), {
      deadlineMs,
      initialDelayMs: 100,
      factor: 2,
      maxDelayMs: 2_000,
      retryable: isTransient,
      onRetry: options.onRetry,
    });
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
  if (error instanceof errors.ResponseError) {
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
