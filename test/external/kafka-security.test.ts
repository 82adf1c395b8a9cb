import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin, kafkaClient } from '../../src/clients/kafka.js';
import { PartitionReader } from '../../src/clients/kafka-reader.js';
import type { BulkOperation, SearchClient } from '../../src/clients/search.js';
import { parseConnectorFile } from '../../src/connectors/spec.js';
import { CliError } from '../../src/lib/errors.js';
import { retry } from '../../src/lib/retry.js';
import type { KafkaTarget } from '../../src/lib/targets.js';
import { parseSinkConfig } from '../../src/sink/config.js';
import { EmbeddedSink } from '../../src/sink/sink.js';
import { produce } from '../../src/topics/produce.js';
import { BIN, ROOT, spawnCli } from '../helpers/cli.js';
import { type SecureKafka, startSecureKafka } from '../helpers/secure-kafka.js';

let kafka: SecureKafka;
let dir: string;
let configHome: string;
/** The variable the contexts' password references read. */
const PASSWORD_VAR = 'OUTBOXCTL_TEST_KAFKA_PASSWORD';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-kafka-security-'));
  configHome = path.join(dir, 'config');
  await mkdir(configHome, { recursive: true });
  kafka = await startSecureKafka({ dir: path.join(dir, 'kafka'), brokers: 3 });
});

afterAll(async () => {
  await kafka?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The error KafkaAdmin.connect gives for `target` (the test fails when it connects). */
async function connectError(target: KafkaTarget): Promise<CliError> {
  const error = await KafkaAdmin.connect(target).then(
    async (admin) => {
      await admin.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, 'the connection was expected to fail').toBeInstanceOf(CliError);
  return error as CliError;
}

/** One sentence: no line break, one final period. */
const ONE_SENTENCE = /^[^\n]+\.$/;

describe('Kafka over SASL_SSL (SCRAM-SHA-512) through the client API', () => {
  const topic = 'secure.api';

  it('creates an RF-3 topic, lists and describes it with leaders, replicas and ISR', async () => {
    const admin = await KafkaAdmin.connect(kafka.target);
    try {
      expect(admin.bootstrap).toBe(kafka.saslSsl);
      expect(admin.target).toBe(kafka.target);
      expect(await admin.create(topic, 3, 3, {})).toBe(true);
      expect((await admin.list()).find((t) => t.name === topic)).toMatchObject({ partitions: 3, replicationFactor: 3 });
      const detail = await admin.describe(topic);
      expect(detail.partitionDetails).toHaveLength(3);
      for (const p of detail.partitionDetails) {
        expect(kafka.nodeIds).toContain(p.leader);
        expect([...p.replicas].sort()).toEqual(kafka.nodeIds);
        expect(p.isr.length).toBeGreaterThanOrEqual(2);
        expect(p.replicas).toContain(p.leader);
      }
    } finally {
      await admin.close();
    }
  });

  it('produces through the target and reads the records back without a group', async () => {
    const admin = await KafkaAdmin.connect(kafka.target);
    try {
      const input = new PassThrough();
      input.end('k1\tone\nk2\ttwo\nk3\tthree\n');
      expect(await produce(admin, { topic, key: null, headers: {}, separator: '\t' }, input)).toBe(3);
      const ends = new Map((await admin.watermarks(topic)).map((w) => [w.partition, w.high]));
      const reader = await PartitionReader.open(admin.target, topic);
      const values: string[] = [];
      try {
        const positions = new Map(reader.partitions().map((p) => [p, 0n]));
        for await (const batch of reader.batches(positions, { until: ends })) values.push(...batch.records.map((r) => `${r.key}=${r.value}`));
      } finally {
        await reader.close();
      }
      expect(values.sort()).toEqual(['k1=one', 'k2=two', 'k3=three']);
    } finally {
      await admin.close();
    }
  });

  it('a consumer group over SASL_SSL commits, and describeGroup sees it', async () => {
    const client = kafkaClient(kafka.target, 'secure-test');
    const consumer = client.consumer({ groupId: 'secure-api-group' });
    await consumer.connect();
    let seen = 0;
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async () => {
            if (++seen === 3) resolve();
          },
        });
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
    const admin = await KafkaAdmin.connect(kafka.target);
    try {
      const committed = await admin.committedOffsets('secure-api-group', topic);
      expect(committed.reduce((sum, c) => sum + (c.offset < 0n ? 0n : c.offset), 0n)).toBe(3n);
      expect((await admin.describeGroup('secure-api-group')).group).toBe('secure-api-group');
    } finally {
      await admin.close();
    }
  });

  it('host name verification off: a name the certificate lacks connects (only the chain is checked)', async () => {
    const admin = await KafkaAdmin.connect({
      ...kafka.target,
      brokers: `127.0.0.2:${kafka.saslSslPort(1)}`,
      tls: { caFile: kafka.certs.caCert, verifyHostname: false },
    });
    await admin.close();
  });
});

describe('the embedded sink over SASL_SSL', () => {
  it('consumes as a group through a KafkaTarget and writes every event', async () => {
    const topic = 'secure.sink';
    const admin = await KafkaAdmin.connect(kafka.target);
    try {
      await admin.create(topic, 2, 3, {});
    } finally {
      await admin.close();
    }
    const producer = kafkaClient(kafka.target, 'secure-sink-test').producer();
    await producer.connect();
    const ids = ['e-1', 'e-2', 'e-3', 'e-4'];
    await producer.send({
      topic,
      acks: -1,
      messages: ids.map((eventId, i) => ({
        key: `p-${i}`,
        value: JSON.stringify({ eventId, eventType: 'ParcelCreated', aggregateType: 'parcel', aggregateId: `p-${i}`, occurredAt: i, payload: {} }),
      })),
    });
    await producer.disconnect();

    const shipped = parseConnectorFile(await readFile(path.join(ROOT, 'kafka-connectors/es-sink-connector.json'), 'utf8'), 'es-sink-connector.json', {
      ELASTICSEARCH_URL: 'http://127.0.0.1:9',
    }).config;
    const config: Record<string, string> = { ...shipped, topics: topic };
    // No dead-letter topic: the sink's producer is not under test.
    delete config['errors.deadletterqueue.topic.name'];
    // The search engine is not under test: a stand-in that takes every bulk operation.
    const written: BulkOperation[] = [];
    const search = {
      url: 'http://search.invalid',
      bulk: async (ops: BulkOperation[]) => {
        written.push(...ops);
        return ops.map(() => ({ ok: true, status: 201 }));
      },
    } as unknown as SearchClient;
    const sink = new EmbeddedSink({ config: parseSinkConfig('secure-sink', config), bootstrap: kafka.target, search, log: () => undefined });
    try {
      await sink.start();
      await retry(
        async () => {
          if (new Set(written.map((o) => o.id)).size < ids.length) throw new Error(`${written.length} of ${ids.length} written`);
        },
        { deadlineMs: 60_000, initialDelayMs: 200, maxDelayMs: 1_000 },
      );
    } finally {
      await sink.stop();
    }
    expect([...new Set(written.map((o) => o.id))].sort()).toEqual(ids);
    expect(written.every((o) => o.index === topic)).toBe(true);
  });

  for (const dlq of [true, false]) {
    it(`a wrong password ${dlq ? 'with the packaged dead-letter topic' : 'without a dead-letter topic'}: start() rejects with one sentence, the sink FAILED`, async () => {
      const shipped = parseConnectorFile(await readFile(path.join(ROOT, 'kafka-connectors/es-sink-connector.json'), 'utf8'), 'es-sink-connector.json', {
        ELASTICSEARCH_URL: 'http://127.0.0.1:9',
      }).config;
      const config: Record<string, string> = { ...shipped, topics: 'secure.sink.denied' };
      if (!dlq) delete config['errors.deadletterqueue.topic.name'];
      const search = { url: 'http://search.invalid', bulk: async () => [] } as unknown as SearchClient;
      const target: KafkaTarget = { ...kafka.target, sasl: { ...kafka.target.sasl!, password: 'wrong' } };
      const sink = new EmbeddedSink({ config: parseSinkConfig('secure-sink-denied', config), bootstrap: target, search, log: () => undefined });
      const started = Date.now();
      const error = await Promise.race([
        sink.start().then(
          () => new Error('the sink started'),
          (e: unknown) => e,
        ),
        new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('start() still waits after 60 s')), 60_000)),
      ]);
      await sink.stop();
      expect(error).toBeInstanceOf(CliError);
      const e = error as CliError;
      expect(e.code).toBe('KAFKA_AUTH_FAILED');
      expect(e.message).toMatch(ONE_SENTENCE);
      expect(e.message).toBe(`Kafka at ${kafka.saslSsl} rejected the credentials of SASL_SSL (SCRAM-SHA-512 as alice): authentication failed.`);
      expect(sink.stats.state).toBe('FAILED');
      expect(Date.now() - started).toBeLessThan(60_000);
    });
  }
});

describe('Kafka authentication failures through the client API: one sentence each, with the fix', () => {
  const method = (t: KafkaTarget) => `${t.tls ? (t.sasl ? 'SASL_SSL' : 'SSL') : t.sasl ? 'SASL_PLAINTEXT' : 'PLAINTEXT'}`;
  const cases: { name: string; target: () => KafkaTarget; code: string; message: (t: KafkaTarget) => RegExp; hint: RegExp }[] = [
    {
      name: 'a wrong password',
      target: () => ({ ...kafka.target, sasl: { ...kafka.target.sasl!, password: 'wrong' } }),
      code: 'KAFKA_AUTH_FAILED',
      message: (t) => new RegExp(`^Kafka at ${t.brokers} rejected the credentials of SASL_SSL \\(SCRAM-SHA-512 as alice\\): authentication failed\\.$`),
      hint: /--kafka-password/,
    },
    {
      name: 'an unknown certificate authority',
      target: () => ({ ...kafka.target, tls: { caFile: kafka.certs.otherCaCert } }),
      code: 'KAFKA_TLS_UNTRUSTED',
      message: (t) =>
        new RegExp(
          `^Kafka at ${t.brokers} presented a certificate that SASL_SSL \\(SCRAM-SHA-512 as alice\\) cannot verify: self-signed certificate in certificate chain\\.$`,
        ),
      hint: /--kafka-ca/,
    },
    {
      name: 'no CA: the bundled authorities do not know the brokers',
      target: () => ({ ...kafka.target, tls: {} }),
      code: 'KAFKA_TLS_UNTRUSTED',
      message: () => /cannot verify: self-signed certificate in certificate chain\.$/,
      hint: /--kafka-ca FILE/,
    },
    {
      name: 'plain text to the SASL_SSL listener',
      target: () => ({ brokers: kafka.saslSsl, sasl: kafka.target.sasl }),
      code: 'KAFKA_TLS_REQUIRED',
      message: (t) =>
        new RegExp(`^Kafka at ${t.brokers} closed the connection SASL_PLAINTEXT \\(SCRAM-SHA-512 as alice\\) opened: the listener speaks TLS\\.$`),
      hint: /--kafka-ca/,
    },
    {
      name: 'TLS to a PLAINTEXT listener',
      target: () => ({ brokers: kafka.plaintext, tls: { caFile: kafka.certs.caCert } }),
      code: 'KAFKA_TLS_NOT_OFFERED',
      message: (t) => new RegExp(`^Kafka at ${t.brokers} did not answer the TLS handshake of SSL: the listener speaks plain text\\.$`),
      hint: /TLS listener/,
    },
    {
      name: 'a SASL mechanism the broker does not offer',
      target: () => ({ ...kafka.target, sasl: { ...kafka.target.sasl!, mechanism: 'scram-sha-256' } }),
      code: 'KAFKA_SASL_MECHANISM',
      message: (t) =>
        new RegExp(`^Kafka at ${t.brokers} does not offer the SASL mechanism of SASL_SSL \\(SCRAM-SHA-256 as alice\\); it offers SCRAM-SHA-512\\.$`),
      hint: /--kafka-sasl-mechanism scram-sha-512/,
    },
    {
      name: 'PLAIN where only SCRAM is enabled',
      target: () => ({ ...kafka.target, sasl: { ...kafka.target.sasl!, mechanism: 'plain' } }),
      code: 'KAFKA_SASL_MECHANISM',
      message: () => /\(PLAIN as alice\); it offers SCRAM-SHA-512\.$/,
      hint: /scram-sha-512/,
    },
    {
      name: 'a host name the certificate lacks',
      target: () => ({ ...kafka.target, brokers: `127.0.0.2:${kafka.saslSslPort(1)}` }),
      code: 'KAFKA_TLS_HOSTNAME',
      message: (t) =>
        new RegExp(
          `^Kafka at ${t.brokers} presented a certificate for other names than the one SASL_SSL \\(SCRAM-SHA-512 as alice\\) connected to: .*127\\.0\\.0\\.2 is not in the cert's list.*\\.$`,
        ),
      hint: /--kafka-no-verify-hostname/,
    },
    {
      name: 'TLS without SASL to the SASL_SSL listener',
      target: () => ({ brokers: kafka.saslSsl, tls: { caFile: kafka.certs.caCert } }),
      code: 'KAFKA_SASL_REQUIRED',
      message: (t) => new RegExp(`^Kafka at ${t.brokers} closed the connection SSL opened: the listener requires SASL \\(SCRAM-SHA-512\\)\\.$`),
      hint: /--kafka-sasl-mechanism scram-sha-512/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const target = c.target();
      const error = await connectError(target);
      expect(error.code).toBe(c.code);
      expect(error.exitCode).toBe(1);
      expect(error.message).toMatch(ONE_SENTENCE);
      expect(error.message).toMatch(c.message(target));
      expect(error.message).toContain(method(target));
      expect(error.hint).toMatch(c.hint);
    });
  }

  it('a CA file that does not exist is one sentence naming the file', async () => {
    const missing = path.join(dir, 'no-such-ca.pem');
    const error = await connectError({ ...kafka.target, tls: { caFile: missing } });
    expect(error.code).toBe('KAFKA_TLS_FILE');
    expect(error.message).toBe(`Cannot read the Kafka TLS CA file ${missing}: no such file.`);
  });
});

describe('the CLI under a context with TLS and SCRAM', () => {
  const env = () => ({ XDG_CONFIG_HOME: configHome, OUTBOXCTL_HOME: path.join(dir, 'home'), [PASSWORD_VAR]: kafka.password, BAD_PASSWORD: 'wrong' });
  const run = (args: string[]) => spawnCli(args, env());
  const topic = 'secure.cli';

  /** `context create NAME` with the good context's flags, `overrides` replacing some (undefined: left out). */
  async function createContext(name: string, overrides: Record<string, string | undefined> = {}): Promise<void> {
    const flags: Record<string, string | undefined> = {
      '--bootstrap-server': kafka.saslSsl,
      '--kafka-ca': kafka.certs.caCert,
      '--kafka-sasl-mechanism': 'scram-sha-512',
      '--kafka-username': kafka.username,
      '--kafka-password': `env:${PASSWORD_VAR}`,
      ...overrides,
    };
    const args = Object.entries(flags).flatMap(([flag, value]) => (value === undefined ? [] : value === '' ? [flag] : [flag, value]));
    const r = await run(['context', 'create', name, '--force', ...args]);
    expect(r.code, r.stderr).toBe(0);
  }

  beforeAll(async () => {
    await createContext('secure');
  });

  it('topic create (RF 3), list and describe with leaders, replicas and ISR', async () => {
    const created = await run(['--context', 'secure', 'topic', 'create', topic, '-p', '3', '-r', '3']);
    expect(created.code, created.stderr).toBe(0);
    const list = await run(['--context', 'secure', 'topic', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(list.stdout))).toContain(topic);
    const described = await run(['--context', 'secure', 'topic', 'describe', topic, '--json']);
    expect(described.code, described.stderr).toBe(0);
    const detail = JSON.parse(described.stdout) as { replicationFactor: number; partitionDetails: { leader: number; replicas: number[]; isr: number[] }[] };
    expect(detail.replicationFactor).toBe(3);
    expect(detail.partitionDetails).toHaveLength(3);
    for (const p of detail.partitionDetails) {
      expect([...p.replicas].sort()).toEqual(kafka.nodeIds);
      expect(p.isr.length).toBeGreaterThanOrEqual(2);
      expect(p.replicas).toContain(p.leader);
    }
    const text = await run(['--context', 'secure', 'topic', 'describe', topic]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/PARTITION\s+LEADER\s+REPLICAS\s+ISR/);
  });

  it('topic produce, topic tail -e, a group tail and group describe', async () => {
    for (const [key, value] of [
      ['a', 'alpha'],
      ['b', 'beta'],
    ]) {
      const r = await run(['--context', 'secure', 'topic', 'produce', topic, '-k', key!, '--value', value!]);
      expect(r.code, r.stderr).toBe(0);
    }
    const tail = await run(['--context', 'secure', 'topic', 'tail', topic, '--from-beginning', '-e', '--print-key']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout.trim().split('\n').sort()).toEqual(['a\talpha', 'b\tbeta']);
    const grouped = await run(['--context', 'secure', 'topic', 'tail', topic, '--group', 'secure-cli-group', '--from-beginning', '-e']);
    expect(grouped.code, grouped.stderr).toBe(0);
    expect(grouped.stdout.trim().split('\n').sort()).toEqual(['alpha', 'beta']);
    const group = await run(['--context', 'secure', 'group', 'describe', 'secure-cli-group', '--json']);
    expect(group.code, group.stderr).toBe(0);
    const report = JSON.parse(group.stdout) as { group: string; totalLag: number | string; offsets: { topic: string }[] };
    expect(report.group).toBe('secure-cli-group');
    expect(Number(report.totalLag)).toBe(0);
    expect(report.offsets.every((o) => o.topic === topic)).toBe(true);
  });

  const failures: { name: string; flags: () => Record<string, string | undefined>; message: RegExp }[] = [
    {
      name: 'a wrong password',
      flags: () => ({ '--kafka-password': 'env:BAD_PASSWORD' }),
      message: /rejected the credentials of SASL_SSL \(SCRAM-SHA-512 as alice\)/,
    },
    { name: 'an unknown CA', flags: () => ({ '--kafka-ca': kafka.certs.otherCaCert }), message: /cannot verify: self-signed certificate in certificate chain/ },
    {
      name: 'plain text to the TLS listener',
      flags: () => ({ '--kafka-ca': undefined }),
      message: /SASL_PLAINTEXT \(SCRAM-SHA-512 as alice\) opened: the listener speaks TLS/,
    },
    {
      name: 'TLS to the plaintext listener',
      flags: () => ({
        '--bootstrap-server': kafka.plaintext,
        '--kafka-sasl-mechanism': undefined,
        '--kafka-username': undefined,
        '--kafka-password': undefined,
      }),
      message: /did not answer the TLS handshake of SSL: the listener speaks plain text/,
    },
    {
      name: 'an unsupported mechanism',
      flags: () => ({ '--kafka-sasl-mechanism': 'scram-sha-256' }),
      message: /\(SCRAM-SHA-256 as alice\); it offers SCRAM-SHA-512/,
    },
    {
      name: 'a host name not in the certificate',
      flags: () => ({ '--bootstrap-server': `127.0.0.2:${kafka.saslSslPort(2)}` }),
      message: /presented a certificate for other names/,
    },
  ];

  for (const f of failures) {
    it(`${f.name}: exit 1 with one sentence naming Kafka, the bootstrap and the method`, async () => {
      const name = `bad-${f.name.replace(/\W+/g, '-')}`;
      await createContext(name, f.flags());
      const r = await run(['--context', name, 'topic', 'list']);
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^error: Kafka at \S+ [^\n]+\.$/);
      expect(lines[0]).toMatch(f.message);
      expect(lines[0]).toContain(`Kafka at ${f.flags()['--bootstrap-server'] ?? kafka.saslSsl}`);
      expect(lines[1]).toMatch(/^hint: /);
      expect(lines).toHaveLength(2);
    });
  }

  describe('serve sink', () => {
    let search: Server;
    let searchUrl: string;
    let noDlqFile: string;

    beforeAll(async () => {
      // The search engine is not under test: GET / answers like Elasticsearch 7, nothing else is asked before Kafka.
      search = createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ version: { number: '7.17.0' }, tagline: 'You Know, for Search' }));
      });
      await new Promise<void>((resolve) => search.listen(0, '127.0.0.1', resolve));
      searchUrl = `http://127.0.0.1:${(search.address() as { port: number }).port}`;
      const shipped = JSON.parse(await readFile(path.join(ROOT, 'kafka-connectors/es-sink-connector.json'), 'utf8')) as { config: Record<string, string> };
      delete shipped.config['errors.deadletterqueue.topic.name'];
      noDlqFile = path.join(dir, 'es-sink-no-dlq.json');
      await writeFile(noDlqFile, JSON.stringify(shipped));
    });

    afterAll(async () => {
      await new Promise((resolve) => search?.close(resolve));
    });

    const bad = [
      {
        name: 'a wrong password',
        flags: (): Record<string, string> => ({ '--kafka-password': 'env:BAD_PASSWORD' }),
        sentence: () => `error: Kafka at ${kafka.saslSsl} rejected the credentials of SASL_SSL (SCRAM-SHA-512 as alice): authentication failed.`,
      },
      {
        name: 'an unknown CA',
        flags: (): Record<string, string> => ({ '--kafka-ca': kafka.certs.otherCaCert }),
        sentence: () =>
          `error: Kafka at ${kafka.saslSsl} presented a certificate that SASL_SSL (SCRAM-SHA-512 as alice) cannot verify: self-signed certificate in certificate chain.`,
      },
    ];
    for (const b of bad) {
      for (const dlq of [true, false]) {
        it(`${b.name}, ${dlq ? 'the packaged connector file (dead-letter topic)' : 'no dead-letter topic'}: exit 1 with one sentence, no hang`, async () => {
          const name = `sink-${b.name.replace(/\W+/g, '-')}`;
          await createContext(name, { ...b.flags(), '--elasticsearch-url': searchUrl });
          const argv = ['--context', name, 'serve', 'sink', '--port', '0', ...(dlq ? [] : ['--connector-file', noDlqFile])];
          // Killed after 90 s: a sink that hangs fails the test instead of outliving it.
          const r = await execa(BIN, argv, { env: { NO_COLOR: '1', ...env() }, reject: false, cwd: ROOT, timeout: 90_000 });
          expect(r.timedOut, `still running after 90 s:\n${r.stderr}`).toBe(false);
          expect(r.exitCode, r.stderr).toBe(1);
          const lines = r.stderr.trim().split('\n');
          const errors = lines.filter((l) => l.startsWith('error: '));
          expect(errors, r.stderr).toEqual([b.sentence()]);
          expect(r.stderr).not.toMatch(/Unexpected error|^\s+at /m);
          expect(lines.at(-1)).toMatch(/^hint: /);
        });
      }
    }
  });
});
