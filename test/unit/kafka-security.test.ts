import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, kafkaConnectionError, kafkaTls } from '../../src/clients/kafka.js';
import { isLeaderChange } from '../../src/clients/kafka-reader.js';
import { CliError } from '../../src/lib/errors.js';
import type { KafkaTarget } from '../../src/lib/targets.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';

let dir: string;
let certs: TestCertificates;
const servers: net.Server[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-kafka-security-unit-'));
  certs = await makeTestCertificates(path.join(dir, 'certs'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

/** A listener on a free port: `onSocket` decides what the "broker" does. */
async function listen(server: net.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** Answers every request frame with `body` under the request's correlation id (a plaintext or TLS Kafka listener in miniature). */
function answering(body: (apiKey: number) => Buffer) {
  return (socket: net.Socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0));
        buffered = buffered.subarray(4 + frame.length);
        const payload = body(frame.readInt16BE(0));
        const header = Buffer.alloc(8);
        header.writeInt32BE(4 + payload.length, 0);
        header.writeInt32BE(frame.readInt32BE(4), 4);
        socket.write(Buffer.concat([header, payload]));
      }
    });
  };
}

/** A SaslHandshake response: UNSUPPORTED_SASL_MECHANISM and the mechanisms enabled. */
function handshake(mechanisms: string[]): Buffer {
  const parts = [Buffer.from([0, 33]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(mechanisms.length, 0);
  for (const m of mechanisms) parts.push(Buffer.from([0, m.length]), Buffer.from(m));
  return Buffer.concat(parts);
}

const kafkajsError = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, ...extra });
const retriesExceeded = (cause: Error) => kafkajsError('KafkaJSNumberOfRetriesExceeded', cause.message, { cause });

describe('kafkaTls: the PEM files of a target', () => {
  it('reads the CA, checks the chain and by default the host name', () => {
    const options = kafkaTls({ caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey });
    expect(options.rejectUnauthorized).toBe(true);
    expect(String(options.ca)).toContain('BEGIN CERTIFICATE');
    expect(String(options.key)).toContain('PRIVATE KEY');
    expect(options.checkServerIdentity).toBe(tls.checkServerIdentity);
  });

  it('verifyHostname false checks only the chain', () => {
    const options = kafkaTls({ caFile: certs.caCert, verifyHostname: false });
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.checkServerIdentity?.('elsewhere.example', {} as tls.PeerCertificate)).toBeUndefined();
  });

  it('a missing PEM file is one sentence naming it, from the client factory too', () => {
    const missing = path.join(dir, 'nope.pem');
    expect(() => kafkaTls({ caFile: missing })).toThrow(`Cannot read the Kafka TLS CA file ${missing}: no such file.`);
    expect(() => kafkaClient({ brokers: '127.0.0.1:1', tls: { certFile: certs.clientCert, keyFile: dir } })).toThrow(
      `Cannot read the Kafka TLS client key ${dir}: it is a directory.`,
    );
  });
});

describe('kafkaConnectionError: what kafkajs reports, as one sentence', () => {
  const target: KafkaTarget = { brokers: '127.0.0.1:1', tls: { caFile: '/ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'x' } };

  it('SASL authentication failed', async () => {
    const error = await kafkaConnectionError(
      target,
      kafkajsError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: invalid credentials'),
    );
    expect(error.code).toBe('KAFKA_AUTH_FAILED');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe('Kafka at 127.0.0.1:1 rejected the credentials of SASL_SSL (SCRAM-SHA-512 as alice): authentication failed.');
  });

  it('an unverifiable chain and a host name mismatch, inside the retrier', async () => {
    const chain = await kafkaConnectionError(
      target,
      retriesExceeded(
        kafkajsError('KafkaJSConnectionError', 'Connection error: unable to get local issuer certificate', { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
      ),
    );
    expect(chain.message).toBe(
      'Kafka at 127.0.0.1:1 presented a certificate that SASL_SSL (SCRAM-SHA-512 as alice) cannot verify: unable to get local issuer certificate.',
    );
    expect(chain.hint).toContain('/ca.pem');
    const name = await kafkaConnectionError(
      target,
      retriesExceeded(
        kafkajsError('KafkaJSConnectionError', "Connection error: Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
      ),
    );
    expect(name.code).toBe('KAFKA_TLS_HOSTNAME');
    expect(name.message).toMatch(/^Kafka at 127\.0\.0\.1:1 presented a certificate for other names .*: Hostname\/IP does not match certificate's altnames\.$/);
  });

  it('an unsupported mechanism names what the broker offers (a SaslHandshake of its own)', async () => {
    const brokers = await listen(net.createServer(answering(() => handshake(['SCRAM-SHA-256', 'OAUTHBEARER']))));
    const plain: KafkaTarget = { brokers, sasl: { mechanism: 'plain', username: 'bob', password: 'x' } };
    const error = await kafkaConnectionError(
      plain,
      kafkajsError('KafkaJSProtocolError', 'The broker does not support the requested SASL mechanism', { type: 'UNSUPPORTED_SASL_MECHANISM' }),
    );
    expect(error.message).toBe(`Kafka at ${brokers} does not offer the SASL mechanism of SASL_PLAINTEXT (PLAIN as bob); it offers SCRAM-SHA-256, OAUTHBEARER.`);
    expect(error.hint).toBe('Use --kafka-sasl-mechanism scram-sha-256.');
  });

  it('a closed connection to a listener that speaks TLS', async () => {
    const brokers = await listen(
      tls.createServer({ cert: await readFile(certs.serverCert, 'utf8'), key: await readFile(certs.serverKey, 'utf8') }, (s) => s.on('error', () => undefined)),
    );
    const error = await kafkaConnectionError({ brokers }, retriesExceeded(kafkajsError('KafkaJSConnectionClosedError', 'Closed connection')));
    expect(error.code).toBe('KAFKA_TLS_REQUIRED');
    expect(error.message).toBe(`Kafka at ${brokers} closed the connection PLAINTEXT opened: the listener speaks TLS.`);
  });

  it('a TLS handshake reset by a listener that answers Kafka in plain text', async () => {
    const brokers = await listen(net.createServer(answering(() => Buffer.from([0, 0]))));
    const error = await kafkaConnectionError(
      { brokers, tls: {} },
      retriesExceeded(
        kafkajsError('KafkaJSConnectionError', 'Connection error: Client network socket disconnected before secure TLS connection was established', {
          code: 'ECONNRESET',
        }),
      ),
    );
    expect(error.code).toBe('KAFKA_TLS_NOT_OFFERED');
    expect(error.message).toBe(`Kafka at ${brokers} did not answer the TLS handshake of SSL: the listener speaks plain text.`);
  });

  it('anything else, or a symptom the probe cannot confirm, is "Cannot reach Kafka"', async () => {
    const silent = await listen(net.createServer((s) => s.destroy()));
    const closed = await kafkaConnectionError({ brokers: silent }, kafkajsError('KafkaJSConnectionClosedError', 'Closed connection'));
    expect(closed.code).toBe('KAFKA_UNREACHABLE');
    expect(closed.message).toBe(`Cannot reach Kafka at ${silent}: Closed connection.`);
    const refused = await kafkaConnectionError(
      '127.0.0.1:1',
      kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }),
    );
    expect(refused).toBeInstanceOf(CliError);
    expect(refused.message).toBe('Cannot reach Kafka at 127.0.0.1:1: connection refused.');
  });
});

describe('isLeaderChange: what the reader retries after a metadata refresh', () => {
  it('moved leaders and lost brokers, also inside kafkajs retrier; not auth or other protocol errors', () => {
    expect(isLeaderChange({ type: 'NOT_LEADER_OR_FOLLOWER' })).toBe(true);
    expect(isLeaderChange(kafkajsError('KafkaJSConnectionClosedError', 'Closed connection'))).toBe(true);
    expect(isLeaderChange(retriesExceeded(kafkajsError('KafkaJSConnectionError', 'ECONNREFUSED')))).toBe(true);
    expect(isLeaderChange(kafkajsError('KafkaJSSASLAuthenticationError', 'bad'))).toBe(false);
    expect(isLeaderChange({ type: 'TOPIC_AUTHORIZATION_FAILED' })).toBe(false);
    expect(isLeaderChange(retriesExceeded(kafkajsError('KafkaJSProtocolError', 'x', { type: 'OFFSET_OUT_OF_RANGE' })))).toBe(false);
  });
});
