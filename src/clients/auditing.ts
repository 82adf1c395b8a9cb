import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { TOKEN_HINT } from '../lib/config.js';
import { UserError } from '../lib/errors.js';
import { unreachableError } from '../lib/network-errors.js';
import { type HttpTarget, httpTarget } from '../lib/targets.js';
import { tlsMaterial, withoutCredentials } from '../lib/tls-errors.js';

/** A 4xx or 5xx answer of the tracking or auditing server, with its status and the problem's detail. */
export class ServerAnswerError extends UserError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly detail: string | undefined,
    options: { hint?: string } = {},
  ) {
    super(code, message, options);
  }
}

/** Typed client of the auditing server's read API; every failure becomes one sentence. */
export class AuditingClient {
  private readonly http: AxiosInstance;

  /** The server's URL without credentials: safe to print. */
  readonly baseUrl: string;

  /**
   * `target.token` (or `options.token`): sent as `Authorization: Bearer` (see resolveToken in
   * lib/config.ts); an https URL uses `target.tls`. `timeoutMs` bounds each request (default 15 s).
   */
  constructor(target: string | HttpTarget, options: { token?: string; timeoutMs?: number } = {}) {
    const t = httpTarget(target);
    this.baseUrl = withoutCredentials(t.url);
    const token = options.token ?? t.token;
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    this.http = axios.create({
      baseURL: this.baseUrl,
      timeout: options.timeoutMs ?? 15_000,
      validateStatus: () => true,
      headers,
      ...httpsAgentOf(this.baseUrl, t, 'the auditing server'),
    });
  }

  /** GET with the given query (undefined values left out); a problem answer becomes a UserError. */
  async get<T>(path: string, params: Record<string, unknown> = {}): Promise<T> {
    const query = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    let response: AxiosResponse<T>;
    try {
      response = await this.http.get<T>(path, { params: query });
    } catch (error) {
      throw unreachableError(
        'AUDITING_UNREACHABLE',
        'the auditing server',
        this.baseUrl,
        error,
        'Is the stack up (`outboxctl up`)? --auditing-url / AUDITING_URL point elsewhere.',
      );
    }
    if (response.status >= 400) {
      const given = (response.data as { detail?: unknown } | undefined)?.detail;
      const problem = typeof given === 'string' && given ? given.replace(/\.$/, '') : undefined;
      throw new ServerAnswerError(
        'AUDITING_REFUSED',
        `The auditing server answered ${response.status}: ${problem ?? `HTTP ${response.status}`}.`,
        response.status,
        problem,
        {
          hint: response.status === 401 ? TOKEN_HINT : undefined,
        },
      );
    }
    return response.data;
  }
}

/** For an https URL with TLS options: an agent that trusts their CA (and presents their client certificate). */
export function httpsAgentOf(url: string, target: HttpTarget, system: string): { httpsAgent?: HttpsAgent } {
  if (!url.startsWith('https:') || !target.tls) return {};
  return { httpsAgent: new HttpsAgent({ ...tlsMaterial(target.tls, system), keepAlive: false }) };
}
