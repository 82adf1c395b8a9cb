import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { createPgPool } from '../../clients/pg.js';
import { createLogger } from '../../lib/logger.js';
import { clientErrorProblem, requireBearerToken, sendProblem as send } from '../http.js';
import { createParcelBody, decodeCursor, firstProblem, type Parcel, parcelIdProblem, parseIfMatch, updateParcelBody } from './parcel.js';
import { isDatabaseUnavailable, type Problem, type ProblemKind, problem } from './problem.js';
import { ParcelRepository, requestHash } from './repository.js';

const log = createLogger('tracking');

export const MAX_BODY_BYTES = 64 * 1024;

export interface TrackingServerOptions {
  databaseUrl: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  outboxDeleteAfterInsert?: boolean;
  poolSize?: number;
  /** Every route but /health wants `Authorization: Bearer <token>`; none: open. */
  token?: string;
}

export interface TrackingServer {
  url: string;
  close(): Promise<void>;
}

class HttpProblem extends Error {
  constructor(readonly body: Problem) {
    super(body.detail);
  }
}

function fail(kind: ProblemKind, detail: string, extra?: Record<string, unknown>): never {
  throw new HttpProblem(problem(kind, detail, extra));
}

function checkId(id: string): string {
  const bad = parcelIdProblem(id);
  if (bad) fail('invalid-request', `${bad}.`, { field: 'id' });
  return id.toLowerCase();
}

const etag = (version: number) => `"${version}"`;

/** Builds the Fastify app (not listening); `createTrackingServer` adds the socket. */
export function buildTrackingApp(repo: ParcelRepository, options: { token?: string } = {}): FastifyInstance {
  const app = Fastify({ bodyLimit: MAX_BODY_BYTES, logger: false, return503OnClosing: true, clientErrorHandler: clientErrorProblem });
  if (options.token !== undefined) requireBearerToken(app, options.token);
  // JSON only: a text/plain body gets 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error: FastifyError | HttpProblem, request, reply) => {
    if (error instanceof HttpProblem) return send(reply, error.body);
    switch ((error as FastifyError).code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, problem('body-too-large', `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(
          reply,
          problem('unsupported-media-type', `Content-Type "${request.headers['content-type'] ?? ''}" is not supported; send application/json.`),
        );
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(reply, problem('malformed-json', 'The request body is empty; send a JSON object.'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return send(reply, problem('malformed-json', `The request body is not valid JSON.`));
      default:
        break;
    }
    if (error instanceof SyntaxError || (error as FastifyError).statusCode === 400) {
      return send(reply, problem('malformed-json', 'The request body is not valid JSON.'));
    }
    if (isDatabaseUnavailable(error)) {
      log('database unavailable: %s', error.message);
      return send(reply, problem('database-unavailable', 'PostgreSQL cannot be reached; nothing was written.'));
    }
    log('internal error on %s %s: %O', request.method, request.url, error);
    return send(reply, problem('internal', 'The request failed and was rolled back; nothing was written.'));
  });
  app.setNotFoundHandler((request, reply) => send(reply, problem('not-found', `No route ${request.method} ${request.url.split('?')[0]}.`)));

  app.post('/api/parcel', async (request, reply) => {
    const parsed = createParcelBody.safeParse(request.body);
    if (!parsed.success) fail('invalid-request', ...detailAndField(parsed.error));
    const keyHeader = request.headers['idempotency-key'];
    let idempotency: { key: string; hash: string } | undefined;
    if (keyHeader !== undefined) {
      const key = Array.isArray(keyHeader) ? keyHeader[0]! : keyHeader;
      if (key.length < 1 || key.length > 255) fail('invalid-request', 'Idempotency-Key must be 1 to 255 characters.', { field: 'Idempotency-Key' });
      idempotency = { key, hash: requestHash(parsed.data) };
    }
    const result = await repo.create(parsed.data.contents, idempotency);
    if (result.kind === 'key-reused') {
      fail('idempotency-key-reused', 'This Idempotency-Key was used with a different request body.', { field: 'Idempotency-Key' });
    }
    const [status, parcel] = result.kind === 'created' ? [201, result.parcel] : [result.statusCode, result.body as Parcel];
    if (result.kind === 'replayed') reply.header('Idempotent-Replayed', 'true');
    return reply.code(status).header('Location', `/api/parcel/${parcel.id}`).header('ETag', etag(parcel.version)).send(parcel);
  });

  app.put<{ Params: { id: string } }>('/api/parcel/:id', async (request, reply) => {
    const id = checkId(request.params.id);
    const parsed = updateParcelBody.safeParse(request.body);
    if (!parsed.success) fail('invalid-request', ...detailAndField(parsed.error));
    const header = request.headers['if-match'];
    let ifMatch: number | 'any' | undefined;
    if (header !== undefined) {
      ifMatch = parseIfMatch(String(header));
      if (ifMatch === undefined)
        fail('invalid-request', `If-Match: ${String(header)} is not a parcel version; send the ETag of the parcel, such as "3", or *.`, { field: 'If-Match' });
    }
    const result = await repo.update(id, parsed.data, ifMatch);
    switch (result.kind) {
      case 'not-found':
        return fail('not-found', `No parcel ${id}.`);
      case 'precondition-failed':
        return fail('precondition-failed', `Parcel ${id} is at version ${result.current.version}, not ${String(ifMatch)}; nothing was changed.`, {
          currentVersion: result.current.version,
        });
      default:
        return reply.header('ETag', etag(result.parcel.version)).send(result.parcel);
    }
  });

  app.get<{ Params: { id: string } }>('/api/parcel/:id', async (request, reply) => {
    const id = checkId(request.params.id);
    const parcel = await repo.get(id);
    if (!parcel) return fail('not-found', `No parcel ${id}.`);
    return reply.header('ETag', etag(parcel.version)).send(parcel);
  });

  app.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/parcel', async (request) => {
    const { limit: rawLimit, cursor: rawCursor } = request.query;
    const limit = rawLimit === undefined ? 50 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) fail('invalid-request', 'limit must be an integer from 1 to 500.', { field: 'limit' });
    const cursor = rawCursor === undefined ? undefined : decodeCursor(rawCursor);
    if (rawCursor !== undefined && !cursor) fail('invalid-request', 'cursor is not one this server returned.', { field: 'cursor' });
    return repo.list(limit, cursor);
  });

  app.get('/health', async (_request, reply) => {
    try {
      await repo.ping();
      return { status: 'ok', database: 'up' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', database: 'down', error: (error as Error).message });
    }
  });

  return app;
}

function detailAndField(error: import('zod').ZodError): [string, Record<string, unknown>] {
  const { field, detail } = firstProblem(error);
  return [`${detail}.`, field ? { field } : {}];
}

/** Starts the tracking server; `close()` stops accepting, drains and closes the pool. */
export async function createTrackingServer(options: TrackingServerOptions): Promise<TrackingServer> {
  const pool = createPgPool(options.databaseUrl, {
    max: options.poolSize ?? 10,
    connectTimeoutMs: 5_000,
    applicationName: 'outboxctl-tracking',
    onIdleError: (error) => log('idle client error: %s', error.message),
  });
  const app = buildTrackingApp(new ParcelRepository(pool, { outboxDeleteAfterInsert: options.outboxDeleteAfterInsert }), { token: options.token });
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 8080 });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    close: async () => {
      await app.close();
      await pool.end().catch(() => undefined);
    },
  };
}
