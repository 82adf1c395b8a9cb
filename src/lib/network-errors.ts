import { EnvironmentError } from './errors.js';

/** What Node, undici and axios call a connection that could not be made, broke or timed out. */
const NETWORK_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
] as const;

const IS_NETWORK_CODE = new Set<string>(NETWORK_CODES);
const CODE_IN_MESSAGE = new RegExp(`\\b(${NETWORK_CODES.join('|')})\\b`);

/** The few codes users see in words; any other failure is told by its own message. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  ECONNABORTED: 'timed out',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_BODY_TIMEOUT: 'timed out',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
};

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

function codeWithin(error: unknown, depth: number): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && IS_NETWORK_CODE.has(code)) return code;
  for (const inner of [cause, ...(Array.isArray(errors) ? errors : [])]) {
    const found = codeWithin(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * The code of a failed connection that `error` carries: its own `code`, its cause's or one of an
 * AggregateError's (Node tries every address of a host), else one its message names, which is
 * all some drivers keep (kafkajs). Undefined when the error is not a network failure.
 */
export function networkCode(error: unknown): string | undefined {
  return codeWithin(error, 0) ?? CODE_IN_MESSAGE.exec(messageOf(error))?.[1];
}

/** True when `error` is a connection that could not be made, broke or timed out. */
export function isNetworkError(error: unknown): boolean {
  return networkCode(error) !== undefined;
}

/**
 * Why a request failed, in a few words to end a sentence: "connection refused", "connection
 * reset", "timed out", "unknown host", else the error's own message without its final period.
 */
export function networkReason(error: unknown): string {
  const code = networkCode(error);
  if (code !== undefined && REASONS[code]) return REASONS[code];
  const ownCode = (error as { code?: unknown } | null | undefined)?.code;
  return (messageOf(error) || code || (typeof ownCode === 'string' ? ownCode : '') || String(error)).replace(/\.$/, '');
}

/**
 * The sentence every client gives for a server it cannot reach:
 * "Cannot reach SERVICE at TARGET: REASON." with the hint that says where to look.
 */
export function unreachableError(code: string, service: string, target: string, error: unknown, hint: string): EnvironmentError {
  return new EnvironmentError(code, `Cannot reach ${service} at ${target}: ${networkReason(error)}.`, { hint, cause: error });
}
