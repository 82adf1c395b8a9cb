import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin, kafkaClient } from '../../src/clients/kafka.js';
import { BIN, ROOT, spawnCli } from '../helpers/cli.js';
import { type SecureKafka, startSecureKafka } from '../helpers/secure-kafka.js';

const TOPIC = 'multi.broker.tail';
const RECORDS = 20_000;
const PARTITIONS = 3;
/** Values of ~600 bytes: 12 MB in all, so that the tail needs several fetches per partition and one crosses the leader change. */
const FILLER = 'x'.repeat(600);
const PASSWORD_VAR = 'OUTBOXCTL_TEST_KAFKA_PASSWORD';

let kafka: SecureKafka;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-multi-broker-'));
  kafka = await startSecureKafka({ dir: path.join(dir, 'kafka'), brokers: 3 });
  env = { XDG_CONFIG_HOME: path.join(dir, 'config'), OUTBOXCTL_HOME: path.join(dir, 'home'), [PASSWORD_VAR]: kafka.password, NO_COLOR: '1' };
  await mkdir(env.XDG_CONFIG_HOME!, { recursive: true });
  const created = await spawnCli(
    [
      'context',
      'create',
      'cluster',
      '--bootstrap-server',
      kafka.saslSsl,
      '--kafka-ca',
      kafka.certs.caCert,
      '--kafka-sasl-mechanism',
      'scram-sha-512',
      '--kafka-username',
      kafka.username,
      '--kafka-password',
      `env:${PASSWORD_VAR}`,
    ],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  // Setup over the PLAINTEXT listeners: faster, and not what is under test.
  const admin = await KafkaAdmin.connect(kafka.plaintext);
  try {
    await admin.create(TOPIC, PARTITIONS, 3, { 'min.insync.replicas': '2' });
  } finally {
    await admin.close();
  }
  const producer = kafkaClient(kafka.plaintext, 'multi-broker-test').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let from = 0; from < RECORDS; from += 1_000) {
      const messages = Array.from({ length: 1_000 }, (_, j) => ({ key: `k-${(from + j) % 997}`, value: `v-${from + j}-${FILLER}` }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
});

afterAll(async () => {
  await kafka?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Node id of the leader of `partition`. */
async function leaderOf(partition: number): Promise<number> {
  const admin = await KafkaAdmin.connect(kafka.plaintext);
  try {
    return (await admin.describe(TOPIC)).partitionDetails.find((p) => p.partition === partition)!.leader;
  } finally {
    await admin.close();
  }
}

describe('topic tail -e across a leader change (RF 3, min.insync.replicas 2, acks all)', () => {
  it('a leader killed with SIGKILL partway: every record exactly once, exit 0', async () => {
    const admin = await KafkaAdmin.connect(kafka.plaintext);
    const ends = await admin.watermarks(TOPIC).finally(() => admin.close());
    expect(ends.reduce((sum, w) => sum + w.high, 0n)).toBe(BigInt(RECORDS));
    const victim = await leaderOf(0);

    // The tail writes with back-pressure: while this side does not read, it fetches no further.
    const child = spawn(BIN, ['--context', 'cluster', 'topic', 'tail', TOPIC, '--from-beginning', '-e', '--print-key'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    let lines = 0;
    let killed: Promise<void> | undefined;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stdout += text;
      lines += text.split('\n').length - 1;
      if (killed === undefined && lines >= 2_000) {
        child.stdout.pause();
        killed = kafka.kill(victim).then(() => {
          setTimeout(() => child.stdout.resume(), 1_000);
        });
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(killed, 'the leader was killed while the tail ran').toBeDefined();
    await killed;
    expect(code, stderr).toBe(0);

    const values = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [key, value] = line.split('\t');
        const id = Number(/^v-(\d+)-/.exec(value ?? '')?.[1]);
        expect(key).toBe(`k-${id % 997}`);
        return id;
      });
    expect(values.length, 'records printed').toBe(RECORDS);
    const unique = new Set(values);
    expect(unique.size, 'distinct records printed').toBe(RECORDS);
    expect(Math.min(...unique)).toBe(0);
    expect(Math.max(...unique)).toBe(RECORDS - 1);

    // The cluster is whole again for whatever runs next; partition 0 has another leader meanwhile.
    expect(await leaderOf(0)).not.toBe(victim);
    await kafka.restart(victim);
  });
});
