import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { TOKEN_HINT } from '../lib/config.js';
import { UserError } from '../lib/errors.js';
import { unreachableError } from '../lib/network-errors.js';

/** Typed client of the auditing server's read API; every failure becomes one sentence. */
export class AuditingClient {
  private readonly http: AxiosInstance;

  /** `token`: sent as `Authorization: Bearer` (see resolveToken in lib/config.ts). */
  constructor(
    readonly baseUrl: string,
    options: { token?: string } = {},
  ) {
    const headers = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    this.http = axios.create({ baseURL: baseUrl.replace(/\/$/, ''), timeout: 15_000, validateStatus: () => true, headers });
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
      const detail = (response.data as { detail?: string } | undefined)?.detail ?? `HTTP ${response.status}`;
      throw new UserError('AUDITING_REFUSED', `The auditing server answered ${response.status}: ${detail.replace(/\.$/, '')}.`, {
        hint: response.status === 401 ? TOKEN_HINT : undefined,
      });
    }
    return response.data;
  }
}
