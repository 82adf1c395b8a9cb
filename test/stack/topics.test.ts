import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { stackState } from '../helpers/state.js';

/** `outboxctl topic …` against the stack's real Kafka 4.3.1 (kafkajs admin underneath). */
let home: string;
const outboxctl = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1', ...env }, reject: false, cwd: ROOT });

describe('topic create / list / describe / delete', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-topics-'));
    const r = await outboxctl(['up', '--services', 'kafka']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
  });

  it("creates with the seed's long flags, refuses a second create, accepts it with --if-not-exists", async () => {
    const created = await outboxctl(['topic', 'create', 'parcel.outbox', '--partitions', '1', '--replication-factor', '1']);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('Created topic parcel.outbox (1 partition, replication factor 1).');
    const again = await outboxctl(['topic', 'create', 'parcel.outbox']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr.split('\n')[0]).toBe('error: Topic "parcel.outbox" already exists.');
    const refused = await outboxctl(['topic', 'create', 'too-many-replicas', '-r', '3']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.split('\n')[0]).toBe('error: Kafka refused to create topic "too-many-replicas": Replication-factor is invalid.');
    const idempotent = await outboxctl(['topic', 'create', 'parcel.outbox', '--if-not-exists', '--json']);
    expect(idempotent.exitCode).toBe(0);
    expect(JSON.parse(idempotent.stdout)).toMatchObject({ topic: 'parcel.outbox', created: false });
  });

  it('lists and describes with --json: partitions, leaders, offsets and configs', async () => {
    const created = await outboxctl(['topic', 'create', 'three', '-p', '3', '-c', 'retention.ms=86400000', '--json']);
    expect(created.exitCode, created.stderr).toBe(0);
    const list = JSON.parse((await outboxctl(['topic', 'list', '--json'])).stdout) as { topics: { name: string; partitions: number; internal: boolean }[] };
    expect(list.topics.map((t) => [t.name, t.partitions])).toEqual([
      ['parcel.outbox', 1],
      ['three', 3],
    ]);
    const withInternal = JSON.parse((await outboxctl(['topic', 'list', '--internal', '--json'])).stdout) as { topics: { name: string }[] };
    expect(withInternal.topics.length).toBeGreaterThanOrEqual(list.topics.length);

    const state = await stackState(home);
    const { kafkaClient } = await import('../../src/clients/kafka.js');
    const producer = kafkaClient(state.endpoints.kafka!).producer();
    await producer.connect();
    await producer.send({
      topic: 'three',
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 0 },
        { value: 'c', partition: 2 },
      ],
    });
    await producer.disconnect();

    const describe = JSON.parse((await outboxctl(['topic', 'describe', 'three', '--json'])).stdout) as {
      partitions: number;
      partitionDetails: { partition: number; leader: number; low: string; high: string }[];
      configs: Record<string, string>;
    };
    expect(describe.partitions).toBe(3);
    expect(describe.partitionDetails.map((p) => [p.partition, p.leader, p.low, p.high])).toEqual([
      [0, 1, '0', '2'],
      [1, 1, '0', '0'],
      [2, 1, '0', '1'],
    ]);
    expect(describe.configs['retention.ms']).toBe('86400000');
    const table = await outboxctl(['topic', 'describe', 'three']);
    expect(table.stdout).toMatch(/^PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+LOW\s+HIGH$/m);

    const missing = await outboxctl(['topic', 'describe', 'nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.split('\n')[0]).toBe('error: Topic "nope" does not exist.');
  });

  it('deletes, refusing missing topics unless --if-exists; nothing is auto-created', async () => {
    const refused = await outboxctl(['topic', 'delete', 'three', 'ghost']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('Topic "ghost" does not exist; nothing was deleted.');
    const deleted = await outboxctl(['topic', 'delete', 'three', 'ghost', '--if-exists', '--json']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: ['three'] });
    const names = (JSON.parse((await outboxctl(['topic', 'list', '--json'])).stdout) as { topics: { name: string }[] }).topics.map((t) => t.name);
    expect(names).toEqual(['parcel.outbox']);
    expect(names).not.toContain('ghost');
  });

  it('an unreachable Kafka is one sentence naming the bootstrap servers, exit 1', async () => {
    const r = await outboxctl(['topic', 'list', '--bootstrap-server', '127.0.0.1:1']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('error: Cannot reach Kafka at 127.0.0.1:1: connection refused.');
  });
});
