import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { stackState } from '../helpers/state.js';

/**
 * `topic produce|tail` and `group …` on the stack's real Kafka 4.3.1, with kcat (librdkafka,
 * from Debian) as the independent peer: kcat writes what outboxctl reads and reads what it writes.
 */
let home: string;
let bootstrap: string;
const outboxctl = (args: string[], input?: string) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT, input });
const kcat = (args: string[], input?: string) => execa('kcat', ['-b', bootstrap, ...args], { reject: false, input });
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

interface JsonLine {
  topic: string;
  partition: number;
  offset: number;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  value: unknown;
}

describe('topic produce / tail and consumer groups', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-tail-'));
    const r = await outboxctl(['up', '--services', 'kafka']);
    expect(r.exitCode, r.stderr).toBe(0);
    bootstrap = (await stackState(home)).endpoints.kafka!;
    expect((await outboxctl(['topic', 'create', 'ten-k', '-p', '3'])).exitCode).toBe(0);
    // 10,000 keyed records with two headers, written by kcat over 3 partitions.
    const input = Array.from({ length: 10_000 }, (_, i) => `key-${i}:{"n":${i},"text":"record ${i}"}`).join('\n');
    const produced = await kcat(['-P', '-t', 'ten-k', '-K:', '-H', 'source=kcat', '-H', 'batch=1'], `${input}\n`);
    expect(produced.exitCode, produced.stderr).toBe(0);
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
  });

  it('--from-beginning -e prints exactly the 10,000 records kcat wrote, in offset order per partition, then exits 0', async () => {
    const raw = await outboxctl(['topic', 'tail', 'ten-k', '--from-beginning', '-e']);
    expect(raw.exitCode, raw.stderr).toBe(0);
    expect(lines(raw.stdout)).toHaveLength(10_000);
    expect(new Set(lines(raw.stdout)).size).toBe(10_000);

    const json = await outboxctl(['topic', 'tail', 'ten-k', '--from-beginning', '-e', '--format', 'json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const records = lines(json.stdout).map((l) => JSON.parse(l) as JsonLine);
    expect(records).toHaveLength(10_000);
    const byPartition = new Map<number, number[]>();
    for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
    expect([...byPartition.keys()].sort()).toEqual([0, 1, 2]);
    for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    // A JSON value is embedded as an object, not an escaped string; key, headers and time come along.
    for (const r of records) {
      expect(typeof r.value).toBe('object');
      expect(r.headers).toEqual({ source: 'kcat', batch: '1' });
      expect(r.key).toBe(`key-${(r.value as { n: number }).n}`);
      expect(Number.isNaN(Date.parse(r.timestamp))).toBe(false);
    }
  });

  it('--offset -5 prints the last 5 of each partition; -n 3 prints 3; --print-key and templates', async () => {
    const last = await outboxctl(['topic', 'tail', 'ten-k', '--offset', '-5', '-e', '--format', 'json']);
    expect(last.exitCode, last.stderr).toBe(0);
    const records = lines(last.stdout).map((l) => JSON.parse(l) as JsonLine);
    expect(records).toHaveLength(15);
    const ends = JSON.parse((await outboxctl(['topic', 'describe', 'ten-k', '--json'])).stdout) as { partitionDetails: { partition: number; high: string }[] };
    for (const { partition, high } of ends.partitionDetails) {
      expect(records.filter((r) => r.partition === partition).map((r) => r.offset)).toEqual([1, 2, 3, 4, 5].map((i) => Number(high) - 6 + i));
    }

    const three = await outboxctl(['topic', 'tail', 'ten-k', '--from-beginning', '-n', '3', '--print-key']);
    expect(three.exitCode, three.stderr).toBe(0);
    expect(lines(three.stdout)).toHaveLength(3);
    for (const line of lines(three.stdout)) expect(line).toMatch(/^key-\d+\t\{"n":\d+,"text":"record \d+"\}$/);

    const template = await outboxctl(['topic', 'tail', 'ten-k', '--offset', '0', '-n', '1', '--format', '%t|%p|%o|%k|%v|%h']);
    expect(template.exitCode, template.stderr).toBe(0);
    expect(template.stdout).toMatch(/^ten-k\|[012]\|0\|key-\d+\|\{"n":\d+,"text":"record \d+"\}\|source=kcat,batch=1$/);

    const pretty = await outboxctl(['topic', 'tail', 'ten-k', '--from-beginning', '-n', '1', '--pretty']);
    expect(pretty.stdout).toMatch(/^\{\n {2}"n": \d+,\n {2}"text": "record \d+"\n\}$/);
  });

  it('--since T5 prints exactly T5…T9 of records stamped T0…T9', async () => {
    expect((await outboxctl(['topic', 'create', 'stamped'])).exitCode).toBe(0);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const { kafkaClient } = await import('../../src/clients/kafka.js');
    const producer = kafkaClient(bootstrap).producer();
    await producer.connect();
    await producer.send({ topic: 'stamped', messages: Array.from({ length: 10 }, (_, i) => ({ value: `T${i}`, timestamp: String(t0 + i * 60_000) })) });
    await producer.disconnect();
    const since = await outboxctl(['topic', 'tail', 'stamped', '--since', new Date(t0 + 5 * 60_000).toISOString(), '-e']);
    expect(since.exitCode, since.stderr).toBe(0);
    expect(lines(since.stdout)).toEqual(['T5', 'T6', 'T7', 'T8', 'T9']);
    // A duration ago: every record is older than 15 minutes, so nothing is printed.
    const recent = await outboxctl(['topic', 'tail', 'stamped', '--since', '-15m', '-e']);
    expect(recent.exitCode, recent.stderr).toBe(0);
    expect(recent.stdout).toBe('');
    const bad = await outboxctl(['topic', 'tail', 'stamped', '--since', 'yesterday-ish']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('error: --since "yesterday-ish" is neither a timestamp nor a duration.');
  });

  it('reads batches kcat compressed with gzip, snappy, lz4 and zstd', async () => {
    expect((await outboxctl(['topic', 'create', 'compressed'])).exitCode).toBe(0);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const r = await kcat(['-P', '-t', 'compressed', '-z', codec], `${Array.from({ length: 50 }, (_, i) => `${codec} ${i}`).join('\n')}\n`);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const read = await outboxctl(['topic', 'tail', 'compressed', '--from-beginning', '-e']);
    expect(read.exitCode, read.stderr).toBe(0);
    expect(lines(read.stdout)).toEqual(['gzip', 'snappy', 'lz4', 'zstd'].flatMap((c) => Array.from({ length: 50 }, (_, i) => `${c} ${i}`)));
  });

  it('a transactional topic (a commit marker ends the partition): -e ends, with and without a group', async () => {
    expect((await outboxctl(['topic', 'create', 'txn'])).exitCode).toBe(0);
    const { kafkaClient } = await import('../../src/clients/kafka.js');
    const producer = kafkaClient(bootstrap).producer({ transactionalId: 'tail-test', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'txn', messages: [{ value: 'a' }, { value: 'b' }] });
    await txn.commit();
    await producer.disconnect();
    const plain = await outboxctl(['topic', 'tail', 'txn', '--from-beginning', '-e']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(lines(plain.stdout)).toEqual(['a', 'b']);
    for (const expected of [['a', 'b'], []]) {
      const grouped = await execa(BIN, ['topic', 'tail', 'txn', '--group', 'txn-readers', '--from-beginning', '-e'], {
        env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' },
        reject: false,
        timeout: 30_000,
      });
      expect(grouped.exitCode, grouped.stderr).toBe(0);
      expect(lines(grouped.stdout)).toEqual(expected);
    }
  });

  it('a closed pipe (| head -1) ends quietly with exit 0', async () => {
    const r = await execa('bash', ['-c', `"${BIN}" topic tail ten-k --from-beginning -e | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`], {
      env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' },
      reject: false,
    });
    expect(lines(r.stdout)).toHaveLength(1);
    expect(r.stderr.trim()).toBe('exit=0');
  });

  it('groups: a group run commits, a second -e run prints nothing, describe shows lag, reset-offsets replays', async () => {
    const first = await outboxctl(['topic', 'tail', 'ten-k', '--group', 'auditors', '--from-beginning', '-e']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(lines(first.stdout)).toHaveLength(10_000);
    const second = await outboxctl(['topic', 'tail', 'ten-k', '--group', 'auditors', '-e']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe('');

    // 7 more records make a lag of 7 for the group.
    const more = await kcat(['-P', '-t', 'ten-k', '-K:'], `${Array.from({ length: 7 }, (_, i) => `late-${i}:late ${i}`).join('\n')}\n`);
    expect(more.exitCode, more.stderr).toBe(0);
    const described = await outboxctl(['group', 'describe', 'auditors', '--json']);
    expect(described.exitCode, described.stderr).toBe(0);
    const report = JSON.parse(described.stdout) as {
      state: string;
      totalLag: number;
      offsets: { topic: string; partition: number; committed: number; end: number; lag: number }[];
    };
    expect(report.totalLag).toBe(7);
    expect(report.offsets.map((o) => o.end - o.committed)).toEqual(report.offsets.map((o) => o.lag));
    expect(report.offsets.reduce((s, o) => s + o.committed, 0)).toBe(10_000);
    const table = await outboxctl(['group', 'describe', 'auditors']);
    expect(table.stdout).toMatch(/^TOTAL LAG\s+7$/m);
    const listed = JSON.parse((await outboxctl(['group', 'list', '--json'])).stdout) as { groups: { group: string; state: string }[] };
    expect(listed.groups).toContainEqual(expect.objectContaining({ group: 'auditors', state: 'Empty' }));

    // A dry run changes nothing: the next run reads only the 7 new records.
    const dry = await outboxctl(['group', 'reset-offsets', 'auditors', '--topic', 'ten-k', '--to-earliest', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ executed: false });
    expect(lines((await outboxctl(['topic', 'tail', 'ten-k', '--group', 'auditors', '-e'])).stdout)).toHaveLength(7);

    const reset = await outboxctl(['group', 'reset-offsets', 'auditors', '--topic', 'ten-k', '--to-earliest', '--execute']);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const replay = await outboxctl(['topic', 'tail', 'ten-k', '--group', 'auditors', '-e']);
    expect(replay.exitCode, replay.stderr).toBe(0);
    expect(lines(replay.stdout)).toHaveLength(10_007);

    const missing = await outboxctl(['group', 'describe', 'nobody']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.split('\n')[0]).toBe('error: Consumer group "nobody" does not exist.');
  });

  it('produce writes keyed lines with headers that kcat reads back; a missing topic is one sentence, exit 1', async () => {
    expect((await outboxctl(['topic', 'create', 'demo'])).exitCode).toBe(0);
    const produced = await outboxctl(['topic', 'produce', 'demo', '--key-separator', ':', '-H', 'origin=outboxctl'], 'p1:{"a":1}\np2:{"a":2}\n');
    expect(produced.exitCode, produced.stderr).toBe(0);
    expect(produced.stdout.trim()).toBe('Produced 2 records to demo.');
    const one = await outboxctl(['topic', 'produce', 'demo', '-k', 'p3', '--value', 'plain text']);
    expect(one.exitCode, one.stderr).toBe(0);
    const read = await kcat(['-C', '-t', 'demo', '-e', '-q', '-f', '%k|%s|%h\n']);
    expect(read.exitCode, read.stderr).toBe(0);
    expect(lines(read.stdout)).toEqual(['p1|{"a":1}|origin=outboxctl', 'p2|{"a":2}|origin=outboxctl', 'p3|plain text|']);

    const broken = await outboxctl(['topic', 'produce', 'demo', '--key-separator', ':'], 'ok:1\nno separator here\n');
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr.split('\n')[0]).toBe('error: Line 2 has no key separator ":"; line 1 was sent, nothing after.');

    for (const args of [
      ['topic', 'tail', 'nope', '-e'],
      ['topic', 'produce', 'nope', '--value', 'x'],
    ]) {
      const r = await outboxctl(args);
      expect(r.exitCode).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe('error: Topic "nope" does not exist.');
    }
    const names = (JSON.parse((await outboxctl(['topic', 'list', '--json'])).stdout) as { topics: { name: string }[] }).topics.map((t) => t.name);
    expect(names).not.toContain('nope');
  });
});
