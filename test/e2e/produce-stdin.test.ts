import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cli, ROOT } from '../helpers/cli.js';

/** The bootstrap the fake answers for; any other goes to the real client. */
const FAKE = 'fake-broker:9092';

const broker = vi.hoisted(() => ({
  sends: [] as { topic: string; messages: { key: string | null; value: string; headers: Record<string, string>; partition?: number }[] }[],
}));

// No broker here: the fake stands in for Kafka behind the client's own API, so what is checked
// is the command's path from Io.stdin to the produce calls.
vi.mock('../../src/clients/kafka.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/clients/kafka.js')>();
  const fakeAdmin = {
    bootstrap: FAKE,
    target: { brokers: FAKE },
    close: async () => undefined,
    requireTopic: async () => undefined,
  };
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async (record: (typeof broker.sends)[number]) => void broker.sends.push(record),
  };
  type Target = Parameters<typeof real.kafkaClient>[0];
  const isFake = (target: Target) => (typeof target === 'string' ? target : target.brokers) === FAKE;
  return {
    ...real,
    KafkaAdmin: { connect: async (target: Target) => (isFake(target) ? fakeAdmin : real.KafkaAdmin.connect(target)) },
    kafkaClient: (target: Target, clientId?: string) => (isFake(target) ? { producer: () => producer } : real.kafkaClient(target, clientId)),
  };
});

let home: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-produce-e2e-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => {
  broker.sends = [];
});

const produce = (args: string[], stdin?: string) =>
  cli(['topic', 'produce', 'demo', '--bootstrap-server', FAKE, ...args], { OUTBOXCTL_HOME: home }, ROOT, stdin);
const sentLines = () => broker.sends.flatMap((s) => s.messages.map((m) => `${m.key}|${m.value}|${JSON.stringify(m.headers)}`));

describe('topic produce reads its input through Io', () => {
  it('keyed stdin lines with headers become records; the count is printed', async () => {
    const r = await produce(['--key-separator', ':', '-H', 'origin=outboxctl'], 'p1:{"a":1}\np2:{"a":2}\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Produced 2 records to demo.\n');
    expect(sentLines()).toEqual(['p1|{"a":1}|{"origin":"outboxctl"}', 'p2|{"a":2}|{"origin":"outboxctl"}']);
    expect(broker.sends.every((s) => s.topic === 'demo')).toBe(true);
  });

  it('--json prints the count as one document', async () => {
    const r = await produce(['-k', 'same', '--json'], 'one\ntwo\nthree');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ topic: 'demo', records: 3 });
    expect(sentLines()).toEqual(['same|one|{}', 'same|two|{}', 'same|three|{}']);
  });

  it('a line without the separator: exit 1, the line named, the lines before it sent', async () => {
    const r = await produce(['--key-separator', ':'], 'ok:1\nno separator here\nlate:3\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe('error: Line 2 has no key separator ":"; line 1 was sent, nothing after.');
    expect(sentLines()).toEqual(['ok|1|{}']);
  });

  it('the default input is empty: nothing waits, zero records', async () => {
    const r = await produce([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Produced 0 records to demo.\n');
    expect(broker.sends).toEqual([]);
  });

  it('--value writes one record and leaves stdin unread', async () => {
    const r = await produce(['-k', 'p3', '--value', 'plain text'], 'ignored:line\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Produced 1 record to demo.\n');
    expect(sentLines()).toEqual(['p3|plain text|{}']);
  });

  it('bad flags are usage errors (exit 2) before any connection', async () => {
    const both = await cli(
      ['topic', 'produce', 'demo', '--bootstrap-server', '127.0.0.1:9', '--value', 'x', '--key-separator', ':'],
      { OUTBOXCTL_HOME: home },
      ROOT,
      'a:b\n',
    );
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe('error: --key-separator applies to stdin lines; with --value use --key.');
    const partition = await cli(['topic', 'produce', 'demo', '--bootstrap-server', '127.0.0.1:9', '--partition', '-1'], { OUTBOXCTL_HOME: home }, ROOT, 'a\n');
    expect(partition.code).toBe(2);
    expect(partition.stderr.split('\n')[0]).toBe('error: --partition "-1" is not a partition number.');
    const header = await cli(['topic', 'produce', 'demo', '--bootstrap-server', '127.0.0.1:9', '-H', 'novalue'], { OUTBOXCTL_HOME: home }, ROOT, 'a\n');
    expect(header.code).toBe(2);
    expect(header.stderr.split('\n')[0]).toBe('error: -H "novalue" is not key=value.');
  });

  it('an unreachable broker (the real client) is one sentence, exit 1', async () => {
    const r = await cli(
      ['topic', 'produce', 'demo', '--bootstrap-server', '127.0.0.1:9', '--key-separator', ':'],
      { OUTBOXCTL_HOME: home },
      ROOT,
      'no separator\n',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('error: Cannot reach Kafka at 127.0.0.1:9: connection refused.');
  });
});
