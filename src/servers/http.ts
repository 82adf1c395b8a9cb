import { createHash, timingSafeEqual } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type Problem, problem } from './tracking/problem.js';

/** What both servers share over HTTP: problem answers, Node's own refusals as problems, the bearer token. */

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/**
 * Fastify's `clientErrorHandler`: what Node refuses before any route runs (a request line and
 * headers over its limit, a request that never arrives, bytes that are not HTTP) is a problem
 * too, not Fastify's plain JSON.
 */
export function clientErrorProblem(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? problem('headers-too-large', `The request line and headers exceed ${maxHeaderSize} bytes; send a shorter query.`)
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? problem('request-timeout', 'The request did not arrive in time; send it again.')
        : problem('bad-request', 'The request is not valid HTTP/1.1.');
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

/** The one route a bearer token does not guard: readiness probes and load balancers call it without one. */
export const HEALTH_PATH = '/health';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Answers 401 (problem+json, `WWW-Authenticate: Bearer`) to every request but `GET /health`
 * without `Authorization: Bearer <token>`, before its body is read. The comparison is constant-time
 * over SHA-256 digests, so neither the token's length nor a common prefix shows in the timing.
 */
export function requireBearerToken(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] === HEALTH_PATH) return;
    const given = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return;
    reply.header('WWW-Authenticate', given === undefined ? 'Bearer realm="outboxctl"' : 'Bearer realm="outboxctl", error="invalid_token"');
    return sendProblem(
      reply,
      given === undefined
        ? problem('unauthorized', 'This server requires a bearer token; send "Authorization: Bearer <token>" (outboxctl: --token or OUTBOXCTL_TOKEN).')
        : problem('unauthorized', 'The bearer token is not the one this server was started with; send that one.'),
    );
  });
}
