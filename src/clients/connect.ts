import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError, UserError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';

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
 * 409 is Connect's "rebalance in progress"; 502-504 and a 500 that says it timed out are
 * transient. Other 500s are not: Connect also answers 500 to some bad requests.
 */
function isTransientStatus(status: number, message: string): boolean {
  if (status === 409 || status === 502 || status === 503 || status === 504) return true;
  return status === 500 && /timed out|rebalanc|try again/i.test(message);
}

function networkCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code;
}

function networkReason(error: unknown): string {
  const code = networkCode(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  return ((error as Error).message || String(code)).replace(/\.$/, '');
}

/** A typed client of the Kafka Connect REST API; every failure becomes one sentence naming the worker. */
export class ConnectClient {
  private readonly http: AxiosInstance;

  constructor(
    readonly url: string,
    private readonly options: ConnectClientOptions = {},
  ) {
    this.url = url.replace(/\/+$/, '');
    // Without a JSON content type axios sends bodyless PUT/POST as a form, which Connect refuses (415).
    this.http = axios.create({ baseURL: this.url, validateStatus: () => true, headers: { Accept: 'application/json', 'Content-Type': 'application/json' } });
  }

  private unreachable(error: unknown): EnvironmentError {
    return new EnvironmentError('CONNECT_UNREACHABLE', `Cannot reach Kafka Connect at ${this.url}: ${networkReason(error)}.`, {
      hint: 'Is the stack up (`outboxctl status`)? --connect-url / KAFKA_CONNECT_URL point elsewhere.',
      cause: error,
    });
  }

  /** One request with retries: 409, transient 5xx and reset connections, with growing pauses until the deadline. */
  private async request<T>(method: Method, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    const totalMs = this.options.deadlineMs ?? 30_000;
    const deadline = Date.now() + totalMs;
    let pause = 200;
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      let last: unknown;
      try {
        const timeout = Math.max(1, Math.min(this.options.requestTimeoutMs ?? 30_000, deadline - Date.now()));
        const response: AxiosResponse<unknown> = await this.http.request({ method, url: path, data: body, timeout });
        if (response.status < 400) return { status: response.status, data: response.data as T };
        const message = connectMessage(response.data, response.status);
        last = new ConnectHttpError(response.status, message);
        if (!isTransientStatus(response.status, message)) throw this.rejected(method, path, response.status, message);
        failure = `HTTP ${response.status}: ${message}`;
      } catch (error) {
        if (error instanceof UserError) throw error;
        if (networkCode(error) !== 'ECONNRESET') throw this.unreachable(error);
        last = error;
        failure = 'connection reset';
      }
      if (Date.now() + pause >= deadline) {
        const status = last instanceof ConnectHttpError ? last.status : undefined;
        throw new EnvironmentError('CONNECT_BUSY', `Kafka Connect at ${this.url} did not complete ${method.toUpperCase()} ${path} within ${Math.round(totalMs / 1000)}s (${attempt} attempts; last: ${failure}).`, {
          hint: status === 409 ? 'A rebalance was in progress the whole time; check the worker with `outboxctl logs connect`.' : 'Check the worker with `outboxctl logs connect`.',
          cause: last,
        });
      }
      log('%s %s: %s; retrying in %dms', method, path, failure, pause);
      this.options.onRetry?.(attempt, failure);
      await sleep(pause);
      pause = Math.min(2_000, Math.round(pause * 1.6));
    }
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
    const { data } = await this.request<ConnectorStatus | ''>('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`);
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
export async function listConnectorPlugins(connectUrl: string, timeoutMs = 5_000): Promise<ConnectorPlugin[]> {
  return new ConnectClient(connectUrl, { deadlineMs: timeoutMs, requestTimeoutMs: timeoutMs }).plugins();
}
