import { describe, expect, it } from 'vitest';
import { pgClientConfig } from '../../src/clients/pg.js';
import {
  authorizationHeader,
  authRejectedError,
  basicCredentials,
  classifyTlsError,
  isPlainAtTlsPortBody,
  looksLikeGarbledHttp,
  withoutCredentials,
} from '../../src/lib/tls-errors.js';

const withCode = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('classifyTlsError', () => {
  it('knows an unknown certificate authority by code, by a cause and by message alone', () => {
    expect(classifyTlsError(withCode('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), { usingTls: true })).toMatchObject({
      kind: 'unknown-ca',
      reason: "its certificate is not signed by Node's bundled CAs (SELF_SIGNED_CERT_IN_CHAIN)",
    });
    const axiosLike = Object.assign(new Error('request failed'), {
      cause: withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
    });
    expect(classifyTlsError(axiosLike, { usingTls: true, caFile: '/x/ca.pem', caOption: '--ca' })).toEqual({
      kind: 'unknown-ca',
      reason: 'its certificate is not signed by the CA in /x/ca.pem (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
      fix: 'trust the CA that signed the server certificate instead (--ca)',
    });
    // @elastic/transport keeps only the message.
    expect(
      classifyTlsError(new Error('unable to verify the first certificate - Local: 127.0.0.1:1, Remote: 127.0.0.1:2'), { usingTls: true })?.reason,
    ).toContain('(UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
  });

  it('knows a host name mismatch, a plain port and an expired certificate', () => {
    expect(
      classifyTlsError(
        withCode('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"),
        {
          usingTls: true,
        },
      ),
    ).toMatchObject({ kind: 'hostname', reason: "its certificate does not name the host (IP: 127.0.0.2 is not in the cert's list: 127.0.0.1)" });
    expect(classifyTlsError(withCode('EPROTO', 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), { usingTls: true })?.kind).toBe(
      'tls-to-plain',
    );
    expect(classifyTlsError(withCode('CERT_HAS_EXPIRED', 'certificate has expired'), { usingTls: true })?.kind).toBe('expired');
  });

  it('leaves other failures alone', () => {
    expect(classifyTlsError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), { usingTls: true })).toBeUndefined();
    expect(classifyTlsError(new Error('Request failed with status code 500'), { usingTls: true })).toBeUndefined();
  });

  it('tells what a plain client sees at a TLS port', () => {
    expect(isPlainAtTlsPortBody('<center>The plain HTTP request was sent to HTTPS port</center>')).toBe(true);
    expect(isPlainAtTlsPortBody({ error: 'Bad Request' })).toBe(false);
    expect(looksLikeGarbledHttp(withCode('ECONNRESET', 'socket hang up'))).toBe(true);
    expect(looksLikeGarbledHttp(withCode('HPE_INVALID_CONSTANT', 'Parse Error: Expected HTTP/'))).toBe(true);
    expect(looksLikeGarbledHttp(withCode('ECONNREFUSED', 'refused'))).toBe(false);
  });
});

describe('HTTP credentials', () => {
  it('takes basic auth from `basic` or the userinfo, and prints URLs without it', () => {
    expect(basicCredentials({ url: 'https://al%40ice:p%3Ass@h:1' })).toEqual({ username: 'al@ice', password: 'p:ss' });
    expect(basicCredentials({ url: 'https://h:1', basic: { username: 'a', password: 'b' } })).toEqual({ username: 'a', password: 'b' });
    expect(authorizationHeader({ url: 'https://a:b@h' })).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`);
    expect(authorizationHeader({ url: 'https://h', apiKey: 'aWQ6a2V5' })).toBe('ApiKey aWQ6a2V5');
    expect(authorizationHeader({ url: 'https://h', token: 't' })).toBe('Bearer t');
    expect(authorizationHeader({ url: 'https://h' })).toBeUndefined();
    expect(withoutCredentials('https://a:secret@h:9200/')).toBe('https://h:9200');
  });

  it('says which method was rejected and the fix, in one sentence', () => {
    expect(authRejectedError('X', 'Kafka Connect', { url: 'http://a:pw@h:8083' }, 401).message).toBe(
      'Kafka Connect at http://h:8083 rejected basic auth as a (HTTP 401): check the username and password.',
    );
    expect(authRejectedError('X', 'The search engine', { url: 'https://h', apiKey: 'k' }, 403).message).toBe(
      'The search engine at https://h rejected an API key (HTTP 403): the credentials are valid but lack the privilege; grant it or use another user.',
    );
  });
});

describe('pgClientConfig: libpq sslmode meanings', () => {
  const base = 'postgres://u:p@db.example:5432/outbox';
  it('disable and allow start plain, require encrypts without verifying, verify-ca checks only the chain', () => {
    expect(pgClientConfig(`${base}?sslmode=disable`).ssl).toBe(false);
    expect(pgClientConfig(`${base}?sslmode=allow`).ssl).toBe(false);
    expect(pgClientConfig(`${base}?sslmode=require`).ssl).toMatchObject({ rejectUnauthorized: false });
    expect(pgClientConfig(`${base}?sslmode=prefer`).ssl).toMatchObject({ rejectUnauthorized: false });
    const verifyFull = pgClientConfig(`${base}?sslmode=verify-full&sslrootcert=system`).ssl as { rejectUnauthorized?: boolean; checkServerIdentity?: unknown };
    expect(verifyFull.rejectUnauthorized).not.toBe(false);
    expect(verifyFull.checkServerIdentity).toBeUndefined();
    expect(pgClientConfig(base).ssl).toBeUndefined();
  });

  it('refuses an unknown sslmode, verify-ca without a root certificate and an unreadable file as one sentence', () => {
    expect(() => pgClientConfig(`${base}?sslmode=strict`)).toThrow('has sslmode=strict, which libpq does not know.');
    expect(() => pgClientConfig(`${base}?sslmode=verify-ca`)).toThrow('has sslmode=verify-ca without sslrootcert');
    expect(() => pgClientConfig(`${base}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`)).toThrow(
      'Cannot read /nonexistent/ca.pem, named by the database URL "postgres://u:****@db.example:5432/outbox?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem": ENOENT.',
    );
  });
});
