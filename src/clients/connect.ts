import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import type { Clock } from '../lib/clock.js';
import { CliError, EnvironmentError, UserError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { networkCode, networkReason, unreachableError } from '../lib/network-errors.js';
import { parseRetryAfter, RetryExhausted, retry } from '../lib/retry.js';
import { type HttpTarget, httpTarget } from '../lib/targets.js';
import {
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

const log = createLogger('connect');

export interface ConnectorPlugin {
  class: string;
  type: string;
  version: string;
}

export type ConnectorState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING' | (string & {});

export interface TaskStatus {
  id: number;
  state: ConnectorState;
  worker_id: string;
  trace?: string;
}

/** `GET /connectors/NAME/status`, as Connect sends it. */
export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectorState; worker_id: string; trace?: string };
  tasks: TaskStatus[];
  type?: string;
}

/** `GET /connectors/NAME`, as Connect sends it. */
export interface ConnectorInfo {
  name: string;
  config: Record<string, string>;
  tasks: { connector: string; task: number }[];
  type?: string;
}

/** One field of a validation answer. */
export interface ConfigValueReport {
  definition?: { name: string; type?: string; required?: boolean; group?: string | null };
  value: { name: string; value: string | null; errors: string[]; recommended_values?: string[]; visible?: boolean } | null;
}

/** `PUT /connector-plugins/CLASS/config/validate`, as Connect sends it. */
export interface ConfigValidation {
  name: string;
  error_count: number;
  groups: string[];
  configs: ConfigValueReport[];
}

export interface ConnectorOffsets {
  offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[];
}

export interface ConnectClientOptions {
  /** Total time a call may spend retrying rebalances and transient failures. */
  deadlineMs?: number;
  /** Per-request timeout (capped by the time left before the deadline). */
  requestTimeoutMs?: number;
  /** Called before each retry (tests count them). */
  onRetry?: (attempt: number, reason: string) => void;
  /** Time for the deadline and the pauses (tests pass a fake one). */
  clock?: Clock;
}

/** What Connect puts in an error body. */
interface ErrorBody {
  error_code?: number;
  message?: string;
}

/** A failed HTTP exchange, before it is turned into a CliError. */
class ConnectHttpError extends Error {
  constructor(
    readonly status: number,
    readonly connectMessage: string,
    /** What a 429 or 503 asked for in Retry-After. */
    readonly retryAfterMs?: number,
  ) {
    super(connectMessage);
  }
}

/** Connect's message without the Java exception class in front of it, and without a final period. */
function connectMessage(body: unknown, status: number): string {
  const message = typeof body === 'object' && body !== null ? (body as ErrorBody).message : typeof body === 'string' ? body : undefined;
  const text = (message ?? '').trim() || `HTTP ${status}`;
  return text.replace(/^(?:[a-z0-9_$]+\.)+[A-Za-z0-9_$]*(?:Exception|Error):\s*/, '').replace(/\.$/, '');
}

/**
 * 409 is Connect's "rebalance in progress"; 429 (a proxy in front), 502-504 and a 500 that says
 * it timed out are transient. Other 500s are not: Connect also answers 500 to some bad requests.
 */
function isTransientStatus(status: number, message: string): boolean {
  if (status === 409 || status === 429 || status === 502 || status === 503 || status === 504) return true;
  return status === 500 && /timed out|rebalanc|try again/i.test(message);
}

/** A retried failure as the retry log, `onRetry` and the final sentence name it. */
function failureOf(error: unknown): string {
  return error instanceof ConnectHttpError ? `HTTP ${error.status}: ${error.connectMessage}` : networkReason(error);
}

/** A typed client of the Kafka Connect REST API; every failure becomes one sentence naming the worker. */
export class ConnectClient {
  private readonly http: AxiosInstance;
  /** The worker's base URL without credentials: safe to print. */
  readonly url: string;
  /** The target as given: URL, TLS, basic auth. */
  readonly target: HttpTarget;

  constructor(
    target: string | HttpTarget,
    private readonly options: ConnectClientOptions = {},
  ) {
    this.target = httpTarget(target);
    this.url = withoutCredentials(this.target.url);
    const basic = basicCredentials(this.target);
    const https = this.url.startsWith('https:');
    const tls = https ? tlsMaterial(this.target.tls, 'Kafka Connect') : undefined;
    // Without a JSON content type axios sends bodyless PUT/POST as a form, which Connect refuses (415).
    this.http = axios.create({
      baseURL: this.url,
      validateStatus: () => true,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      ...(basic ? { auth: basic } : {}),
      ...(tls ? { httpsAgent: new HttpsAgent({ ...tls, keepAlive: false }) } : {}),
      // A proxy from the environment would change what TLS and auth failures mean.
      proxy: false,
    });
  }

  /**
   * One request with retries: 409, 429, transient 5xx and reset connections, with growing pauses
   * (or what Retry-After asks for) until the deadline.
   */
  private async request<T>(method: Method, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    const deadlineMs = this.options.deadlineMs ?? 30_000;
    try {
      return await retry((_attempt, remainingMs) => this.attempt<T>(method, path, body, remainingMs), {
        deadlineMs,
        initialDelayMs: 200,
        factor: 1.6,
        maxDelayMs: 2_000,
        clock: this.options.clock,
        // Refusals and unreachable workers are already sentences: only the transient rest is retried.
        retryable: (error) => !(error instanceof CliError),
        retryAfterMs: (error) => (error instanceof ConnectHttpError ? error.retryAfterMs : undefined),
        onRetry: (attempt, error, delayMs) => {
          log('%s %s: %s; retrying in %dms', method, path, failureOf(error), delayMs);
          this.options.onRetry?.(attempt, failureOf(error));
        },
      });
    } catch (error) {
      if (!(error instanceof RetryExhausted)) throw error;
      const last = error.lastError;
      throw new EnvironmentError(
        'CONNECT_BUSY',
        `Kafka Connect at ${this.url} did not complete ${method.toUpperCase()} ${path} within ${Math.round(deadlineMs / 1000)}s (${error.attempts} attempts; last: ${failureOf(last)}).`,
        {
          hint:
            last instanceof ConnectHttpError && last.status === 409
              ? 'A rebalance was in progress the whole time; check the worker with `outboxctl logs connect`.'
              : 'Check the worker with `outboxctl logs connect`.',
          cause: last,
        },
      );
    }
  }

  /** One exchange: the answer, a ConnectHttpError or reset connection to retry, or a CliError to give up with. */
  private async attempt<T>(method: Method, path: string, body: unknown, remainingMs: number): Promise<{ status: number; data: T }> {
    let response: AxiosResponse<unknown>;
    const timeout = Math.max(1, Math.min(this.options.requestTimeoutMs ?? 30_000, remainingMs));
    try {
      // `timeout` is axios's idle timer; the signal bounds the whole exchange (a trickling server).
      response = await this.http.request({ method, url: path, data: body, timeout, signal: AbortSignal.timeout(timeout + 1_000) });
    } catch (error) {
      throw await this.networkFailure(error);
    }
    if (response.status === 401 || response.status === 403)
      throw authRejectedError('CONNECT_AUTH', 'Kafka Connect', this.target, response.status, {
        hint: 'Credentials go in the URL (https://USER:PASSWORD@HOST:PORT) or a context (`outboxctl context create NAME --connect-username U --connect-password env:VAR`).',
        cause: new ConnectHttpError(response.status, connectMessage(response.data, response.status)),
      });
    if (response.status === 400 && !this.url.startsWith('https:') && isPlainAtTlsPortBody(response.data)) throw this.tlsFailure(PLAIN_TO_TLS);
    // Jetty's own host check: a name its certificate lacks, even when the client does not check it.
    if (response.status === 400 && /^Invalid SNI$/.test(connectMessage(response.data, response.status)))
      throw this.tlsFailure({
        kind: 'hostname',
        reason: 'it refused the host name it was reached at (HTTP 400 Invalid SNI)',
        fix: 'use a host name the certificate lists',
      });
    if (response.status < 400) return { status: response.status, data: response.data as T };
    const message = connectMessage(response.data, response.status);
    if (!isTransientStatus(response.status, message)) throw this.rejected(method, path, response.status, message);
    const retryAfterMs = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers['retry-after']) : undefined;
    throw new ConnectHttpError(response.status, message, retryAfterMs);
  }

  /** A failed exchange: a TLS sentence, a reset to retry, or "Cannot reach". */
  private async networkFailure(error: unknown): Promise<unknown> {
    const https = this.url.startsWith('https:');
    const tls = classifyTlsError(error, { caFile: this.target.tls?.caFile, usingTls: https, caOption: "a context's --connect-ca FILE" });
    if (tls) return this.tlsFailure(tls, error);
    // A plain request at a TLS port is reset or answered with gibberish: say so rather than retry.
    if (!https && looksLikeGarbledHttp(error) && (await speaksTls(this.url))) return this.tlsFailure(PLAIN_TO_TLS, error);
    if (networkCode(error) === 'ECONNRESET') return error;
    return unreachableError(
      'CONNECT_UNREACHABLE',
      'Kafka Connect',
      this.url,
      error,
      'Is the stack up (`outboxctl status`)? --connect-url / KAFKA_CONNECT_URL point elsewhere.',
    );
  }

  private tlsFailure(failure: TlsFailure, cause?: unknown): CliError {
    return tlsError('CONNECT_TLS', 'Kafka Connect', this.target, failure, {
      hint: 'A context carries the CA and client certificate: `outboxctl context create NAME --connect-url https://… --connect-ca FILE`.',
      cause,
    });
  }

  private rejected(method: Method, path: string, status: number, message: string): UserError {
    const code = status === 404 ? 'CONNECT_NOT_FOUND' : status === 409 ? 'CONNECT_CONFLICT' : 'CONNECT_REJECTED';
    return new UserError(code, `Kafka Connect at ${this.url} refused ${method.toUpperCase()} ${path} (HTTP ${status}): ${message}.`, {
      cause: new ConnectHttpError(status, message),
    });
  }

  private async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).data;
  }

  /** Installed connector plugins (not transforms or converters). */
  async plugins(): Promise<ConnectorPlugin[]> {
    return this.get('/connector-plugins');
  }

  /** Checks a config against a plugin; `config` must carry `connector.class` and `name`. */
  async validate(connectorClass: string, config: Record<string, string>): Promise<ConfigValidation> {
    return (await this.request<ConfigValidation>('PUT', `/connector-plugins/${encodeURIComponent(connectorClass)}/config/validate`, config)).data;
  }

  /** Connector names. */
  async names(): Promise<string[]> {
    return this.get('/connectors');
  }

  /** Every connector with its status and info, keyed by name. */
  async list(): Promise<Record<string, { status: ConnectorStatus; info: ConnectorInfo }>> {
    return this.get('/connectors?expand=status&expand=info');
  }

  /** The connector's config; `undefined` when there is no such connector. */
  async getConfig(name: string): Promise<Record<string, string> | undefined> {
    return this.orMissing(() => this.get<Record<string, string>>(`/connectors/${encodeURIComponent(name)}/config`));
  }

  /** Create-or-update; `created` is true when the connector is new. */
  async putConfig(name: string, config: Record<string, string>): Promise<{ created: boolean; info: ConnectorInfo }> {
    const { status, data } = await this.request<ConnectorInfo>('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
    return { created: status === 201, info: data };
  }

  /** The connector's status; `undefined` when there is no such connector (yet). */
  async status(name: string): Promise<ConnectorStatus | undefined> {
    return this.orMissing(() => this.get<ConnectorStatus>(`/connectors/${encodeURIComponent(name)}/status`));
  }

  /** Deletes the connector (its offsets stay in Connect). */
  async delete(name: string): Promise<void> {
    await this.request('DELETE', `/connectors/${encodeURIComponent(name)}`);
  }

  /** Restarts the connector (and its tasks); Connect answers with the states it is restarting, when it has them. */
  async restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | undefined> {
    const { data } = await this.request<ConnectorStatus | ''>(
      'POST',
      `/connectors/${encodeURIComponent(name)}/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`,
    );
    return data || undefined;
  }

  /** Pauses the connector and its tasks; Connect applies it asynchronously. */
  async pause(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(name)}/pause`);
  }

  /** Resumes a paused or stopped connector; Connect applies it asynchronously. */
  async resume(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(name)}/resume`);
  }

  /** Source partitions and offsets, or sink consumer offsets (Kafka 3.5+). */
  async offsets(name: string): Promise<ConnectorOffsets> {
    return this.get(`/connectors/${encodeURIComponent(name)}/offsets`);
  }

  private async orMissing<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof UserError && error.code === 'CONNECT_NOT_FOUND') return undefined;
      throw error;
    }
  }
}

/** `GET /connector-plugins` of a Kafka Connect worker (the readiness probe). */
export async function listConnectorPlugins(connectUrl: string | HttpTarget, timeoutMs = 5_000): Promise<ConnectorPlugin[]> {
  return new ConnectClient(connectUrl, { deadlineMs: timeoutMs, requestTimeoutMs: timeoutMs }).plugins();
}
