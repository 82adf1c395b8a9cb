import { isNetworkError } from '../../lib/network-errors.js';

/** RFC 9457 problem details, the body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  [extra: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Every problem either server answers; the type is `urn:outboxctl:problem:<kind>`. */
const TITLES: Record<string, [number, string]> = {
  'bad-request': [400, 'Bad request'],
  'invalid-request': [400, 'Invalid request'],
  'malformed-json': [400, 'Malformed JSON'],
  unauthorized: [401, 'Unauthorized'],
  'not-found': [404, 'Not found'],
  'request-timeout': [408, 'Request timeout'],
  'precondition-failed': [412, 'Precondition failed'],
  'body-too-large': [413, 'Request body too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'idempotency-key-reused': [422, 'Idempotency key reused'],
  'headers-too-large': [431, 'Request header fields too large'],
  'database-unavailable': [503, 'Database unavailable'],
  'search-unavailable': [503, 'Search engine unavailable'],
  internal: [500, 'Internal server error'],
};

export type ProblemKind = keyof typeof TITLES;

export function problem(kind: ProblemKind, detail: string, extra: Record<string, unknown> = {}): Problem {
  const [status, title] = TITLES[kind]!;
  return { type: `urn:outboxctl:problem:${kind}`, title, status, detail, ...extra };
}

/** SQLSTATEs of a server shutting down or out of connections (class 08 is every connection failure). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** True when a database error means "cannot reach PostgreSQL" rather than "this statement failed". */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  const e = error as { code?: string; message?: string; errors?: unknown[] };
  if (e.code && (UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true;
  return /Connection terminated|timeout exceeded when trying to connect/i.test(e.message ?? '');
}
