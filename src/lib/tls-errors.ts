import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity as nodeCheckServerIdentity, type PeerCertificate, connect as tlsConnect } from 'node:tls';
import { UserError } from './errors.js';
import { type HttpTarget, httpAuthLabel, type TlsOptions } from './targets.js';

/** The PEM material of a TlsOptions, read once: what node:tls, axios, undici and @elastic take. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: true;
  /** Present only when host name checks are off: accepts any name on a trusted chain. */
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

function readPem(file: string, what: string, system: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UserError('TLS_FILE_UNREADABLE', `Cannot read the ${what} for ${system} at ${file}: ${(error as Error).message.replace(/\.$/, '')}.`, {
      hint: 'Give the path of a readable PEM file.',
      cause: error,
    });
  }
}

/** Reads the files a TlsOptions names; a missing file is a UserError naming `system`. */
export function tlsMaterial(tls: TlsOptions | undefined, system: string): TlsMaterial {
  if ((tls?.certFile === undefined) !== (tls?.keyFile === undefined))
    throw new UserError('TLS_CLIENT_CERT_INCOMPLETE', `The client certificate for ${system} needs both a certificate file and a key file.`, {
      hint: 'Give both, or neither.',
    });
  return {
    rejectUnauthorized: true,
    ...(tls?.caFile ? { ca: readPem(tls.caFile, 'CA certificate file', system) } : {}),
    ...(tls?.certFile ? { cert: readPem(tls.certFile, 'client certificate file', system) } : {}),
    ...(tls?.keyFile ? { key: readPem(tls.keyFile, 'client key file', system) } : {}),
    ...(tls?.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
  };
}

/** Node's own host name check, for callers that must pass one explicitly. */
export const checkServerIdentity = nodeCheckServerIdentity;

/** A URL without its userinfo: safe to print, and what fetch and axios are given. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url.replace(/\/+$/, '');
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//').replace(/\/+$/, '');
  }
}

/** The basic credentials of a target: its `basic`, else its URL's userinfo. */
export function basicCredentials(target: HttpTarget): { username: string; password: string } | undefined {
  if (target.basic) return target.basic;
  try {
    const u = new URL(target.url);
    if (u.username || u.password) return { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    // not a URL: no credentials in it
  }
  return undefined;
}

/** The Authorization header a target asks for (basic, API key, bearer), if any. */
export function authorizationHeader(target: HttpTarget): string | undefined {
  const basic = basicCredentials(target);
  if (basic) return `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
  if (target.apiKey) return `ApiKey ${target.apiKey}`;
  if (target.token) return `Bearer ${target.token}`;
  return undefined;
}

export type TlsFailureKind = 'unknown-ca' | 'hostname' | 'expired' | 'tls-to-plain' | 'plain-to-tls' | 'client-cert' | 'handshake';

/** A TLS failure as words: what went wrong and how to fix it, both without a final period. */
export interface TlsFailure {
  kind: TlsFailureKind;
  reason: string;
  fix: string;
}

const UNKNOWN_CA_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** OpenSSL's words for the codes, for clients that keep only the message (@elastic/transport). */
const CODE_OF_MESSAGE: [RegExp, string][] = [
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/unable to get issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT'],
];

function errorChain(error: unknown): { code?: string; message: string }[] {
  const chain: { code?: string; message: string }[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const { code, message, cause, errors } = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    chain.push({ code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : '' });
    current = cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return chain;
}

/**
 * What kind of TLS failure `error` is (its own code, its cause's, or its message, which is all
 * some drivers keep), with the fix for a client that reached `url`; undefined when it is none.
 * `usingTls` says whether the client spoke TLS: a plain client reset or answered gibberish by a
 * TLS port is `plain-to-tls` only then.
 */
export function classifyTlsError(
  error: unknown,
  options: { caFile?: string; usingTls: boolean; caOption?: string } = { usingTls: true },
): TlsFailure | undefined {
  const trusted = options.caFile ? `the CA in ${options.caFile}` : "Node's bundled CAs";
  const where = options.caOption ? ` (${options.caOption})` : '';
  for (const { code, message } of errorChain(error)) {
    const caCode = code && UNKNOWN_CA_CODES.has(code) ? code : CODE_OF_MESSAGE.find(([pattern]) => pattern.test(message))?.[1];
    if (caCode)
      return {
        kind: 'unknown-ca',
        reason: `its certificate is not signed by ${trusted} (${caCode})`,
        fix: `${options.caFile ? 'trust the CA that signed the server certificate instead' : 'trust the CA that signed the server certificate'}${where}`,
      };
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /Hostname\/IP does not match certificate|does not match certificate's altnames/i.test(message))
      return {
        kind: 'hostname',
        reason: `its certificate does not name the host (${message.replace(/^.*?: /, '').replace(/\.$/, '')})`,
        fix: 'use a host name the certificate lists, or have the certificate reissued with this one',
      };
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
      return { kind: 'expired', reason: `its certificate is not valid now (${code})`, fix: 'renew the server certificate or check the clock' };
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|unknown protocol|record layer failure/i.test(message))
      return options.usingTls
        ? { kind: 'tls-to-plain', reason: 'it does not speak TLS on this port', fix: 'use http:// for a plain port, or the port that serves TLS' }
        : { kind: 'plain-to-tls', reason: 'it speaks TLS on this port', fix: 'use https://' };
    if (/certificate required|bad certificate|handshake failure|unknown ca/i.test(message) && /alert|ssl|tls/i.test(message))
      return {
        kind: 'client-cert',
        reason: 'it refused the TLS handshake, likely the client certificate',
        fix: 'give a client certificate and key the server trusts',
      };
    if (code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_'))
      return { kind: 'handshake', reason: `the TLS handshake failed (${message.replace(/\.$/, '') || code})`, fix: 'check the TLS settings of both sides' };
  }
  return undefined;
}

/** nginx's answer to plain HTTP at a TLS port, and what Jetty and others send. */
const PLAIN_AT_TLS_PORT = /plain HTTP request was sent to HTTPS port|HTTP request to an HTTPS server|This combination of host and port requires TLS/i;

/** True when an HTTP answer body says the client spoke plain HTTP to a TLS port. */
export function isPlainAtTlsPortBody(body: unknown): boolean {
  const text = typeof body === 'string' ? body : body && typeof body === 'object' ? JSON.stringify(body) : '';
  return PLAIN_AT_TLS_PORT.test(text);
}

/** The failure of a plain HTTP client at a TLS port: nginx's 400 page, a reset or a garbled answer. */
export const PLAIN_TO_TLS: TlsFailure = { kind: 'plain-to-tls', reason: 'it speaks TLS on this port', fix: 'use https://' };

/**
 * Whether a TLS server answers at host:port: asked only after a plain HTTP request was reset or
 * answered with gibberish, to tell "you need https://" from a broken server.
 */
export function speaksTls(url: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve(false);
      return;
    }
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: isIP(host) ? undefined : host, timeout: timeoutMs });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Failures a plain HTTP client sees from a TLS port: a reset, a hang-up or an answer that is not HTTP. */
export function looksLikeGarbledHttp(error: unknown): boolean {
  return errorChain(error).some(
    ({ code, message }) =>
      code === 'ECONNRESET' || code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_') || /socket hang up|Parse Error|other side closed/i.test(message),
  );
}

/**
 * The one sentence for an endpoint outboxctl reached but could not talk to securely, e.g.
 * "Cannot connect securely to Kafka Connect at https://h:8443 (basic auth as alice): its
 * certificate is not signed by Node's bundled CAs (SELF_SIGNED_CERT_IN_CHAIN); give the CA that
 * signed the server certificate."
 */
export function tlsError(code: string, system: string, target: HttpTarget, failure: TlsFailure, options: { hint?: string; cause?: unknown } = {}): UserError {
  const verb = failure.kind === 'plain-to-tls' ? 'Cannot connect to' : 'Cannot connect securely to';
  return new UserError(code, `${verb} ${system} at ${withoutCredentials(target.url)} (${httpAuthLabel(target)}): ${failure.reason}; ${failure.fix}.`, options);
}

/**
 * The one sentence for a 401/403: "Kafka Connect at URL rejected basic auth as alice (HTTP 401):
 * check the username and password."
 */
export function authRejectedError(
  code: string,
  system: string,
  target: HttpTarget,
  status: number,
  options: { hint?: string; cause?: unknown } = {},
): UserError {
  const label = httpAuthLabel(target);
  const fix =
    status === 403
      ? `the credentials are valid but lack the privilege; grant it or use another user`
      : label === 'no auth'
        ? 'it requires credentials; give a username and password (or an API key)'
        : label === 'an API key'
          ? 'check the API key'
          : label === 'a bearer token'
            ? 'check the token'
            : 'check the username and password';
  const what = label === 'no auth' ? 'the request without credentials' : label;
  return new UserError(code, `${system} at ${withoutCredentials(target.url)} rejected ${what} (HTTP ${status}): ${fix}.`, options);
}
