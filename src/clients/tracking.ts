import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { TOKEN_HINT } from '../lib/config.js';
import { unreachableError } from '../lib/network-errors.js';
import { type HttpTarget, httpTarget } from '../lib/targets.js';
import { withoutCredentials } from '../lib/tls-errors.js';
import { httpsAgentOf, ServerAnswerError } from './auditing.js';
import type { Parcel } from './tracking-api.js';

interface ProblemBody {
  title?: string;
  detail?: string;
  status?: number;
  field?: string;
  type?: string;
}

/** Typed client of the tracking server's HTTP API; every failure becomes one sentence. */
export class TrackingClient {
  private readonly http: AxiosInstance;

  /** The server's URL without credentials: safe to print. */
  readonly baseUrl: string;

  /** `target.token` (or `options.token`): sent as `Authorization: Bearer` (see resolveToken in lib/config.ts); an https URL uses `target.tls`. */
  constructor(target: string | HttpTarget, options: { token?: string } = {}) {
    const t = httpTarget(target);
    this.baseUrl = withoutCredentials(t.url);
    const token = options.token ?? t.token;
    const auth = token ? { Authorization: `Bearer ${token}` } : {};
    this.http = axios.create({
      baseURL: this.baseUrl,
      timeout: 15_000,
      validateStatus: () => true,
      headers: { Accept: 'application/json', ...auth },
      ...httpsAgentOf(this.baseUrl, t, 'the tracking server'),
    });
  }

  private async call<T>(request: () => Promise<AxiosResponse<unknown>>): Promise<AxiosResponse<T>> {
    let response: AxiosResponse<unknown>;
    try {
      response = await request();
    } catch (error) {
      throw unreachableError(
        'TRACKING_UNREACHABLE',
        'the tracking server',
        this.baseUrl,
        error,
        'Start it with `outboxctl serve tracking`, or point --tracking-url / TRACKING_URL at a running one.',
      );
    }
    if (response.status >= 400) {
      const body = (typeof response.data === 'object' && response.data ? response.data : {}) as ProblemBody;
      const detail = body.detail ?? `HTTP ${response.status}`;
      const code = body.type?.split(':').pop()?.toUpperCase().replace(/-/g, '_') ?? `HTTP_${response.status}`;
      throw new ServerAnswerError(
        code,
        `The tracking server answered ${response.status} ${body.title ?? ''}: ${detail.replace(/\.$/, '')}.`.replace('  ', ' '),
        response.status,
        body.detail?.replace(/\.$/, ''),
        { hint: response.status === 412 ? 'Get the parcel again and retry with its current version.' : response.status === 401 ? TOKEN_HINT : undefined },
      );
    }
    return response as AxiosResponse<T>;
  }

  async create(contents: string, idempotencyKey?: string): Promise<Parcel> {
    const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
    return (await this.call<Parcel>(() => this.http.post('/api/parcel', { contents }, { headers }))).data;
  }

  async update(id: string, changes: { contents?: string; status?: string }, ifMatch?: string): Promise<Parcel> {
    const headers = ifMatch ? { 'If-Match': /^".*"$/.test(ifMatch) ? ifMatch : `"${ifMatch}"` } : {};
    return (await this.call<Parcel>(() => this.http.put(`/api/parcel/${encodeURIComponent(id)}`, changes, { headers }))).data;
  }

  async get(id: string): Promise<Parcel> {
    return (await this.call<Parcel>(() => this.http.get(`/api/parcel/${encodeURIComponent(id)}`))).data;
  }

  async list(limit?: number, cursor?: string): Promise<{ items: Parcel[]; nextCursor: string | null }> {
    return (await this.call<{ items: Parcel[]; nextCursor: string | null }>(() => this.http.get('/api/parcel', { params: { limit, cursor } }))).data;
  }
}
