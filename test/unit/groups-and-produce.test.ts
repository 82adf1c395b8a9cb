import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { GroupDetail, GroupMember, Watermarks } from '../../src/clients/kafka.js';
import { describeGroupLag, groupLag, groupMissing, groupTopics } from '../../src/groups/lag.js';
import { parseResetTarget, resetOffsets, resetPlan } from '../../src/groups/reset-plan.js';
import { Batcher, badLineError, lineMessages, type ProduceMessage, parseLine, sendLines } from '../../src/topics/produce.js';

const member = (memberId: string, assignment: Record<string, number[]>): GroupMember => ({
  memberId,
  clientId: `c-${memberId}`,
  host: '/10.0.0.1',
  assignment,
});
const marks = (...ends: [number, bigint, bigint][]): Watermarks[] => ends.map(([partition, low, high]) => ({ partition, low, high }));

describe('groups: lag', () => {
  const committed = [
    { topic: 'orders', partition: 0, offset: 40n },
    { topic: 'orders', partition: 1, offset: -1n },
    { topic: 'audit', partition: 0, offset: 5n },
  ];

  it('lag is end minus commit; a partition without a commit counts from its low watermark', () => {
    const report = groupLag(committed, [member('m1', { orders: [1] })], new Map([['orders', marks([0, 10n, 50n], [1, 20n, 30n], [2, 0n, 7n])]]));
    expect(report.offsets).toEqual([
      { topic: 'orders', partition: 0, committed: 40, end: 50, lag: 10, memberId: null },
      // -1 is Kafka's "nothing committed": no commit, lag from low (30 - 20), not from -1.
      { topic: 'orders', partition: 1, committed: null, end: 30, lag: 10, memberId: 'm1' },
      { topic: 'orders', partition: 2, committed: null, end: 7, lag: 7, memberId: null },
    ]);
    expect(report.totalLag).toBe(27);
  });

  it('topics come from commits and assignments, sorted, without -1 entries', () => {
    expect(groupTopics(committed, [member('m1', { payments: [0] })])).toEqual(['audit', 'orders', 'payments']);
    expect(groupTopics([{ topic: 'gone', partition: 0, offset: -1n }], [])).toEqual([]);
  });

  it('a Dead group is missing only without real commits', () => {
    expect(groupMissing({ state: 'Dead' }, [{ topic: 't', partition: 0, offset: -1n }])).toBe(true);
    expect(groupMissing({ state: 'Dead' }, [{ topic: 't', partition: 0, offset: 0n }])).toBe(false);
    expect(groupMissing({ state: 'Empty' }, [])).toBe(false);
  });

  it('describeGroupLag skips a topic whose watermarks fail and refuses a missing group', async () => {
    const detail: GroupDetail = { group: 'g', state: 'Empty', protocolType: 'consumer', protocol: '', members: [] };
    const admin = {
      describeGroup: async () => detail,
      committedOffsets: async () => committed,
      watermarks: async (topic: string) => (topic === 'audit' ? Promise.reject(new Error('deleted')) : marks([0, 0n, 45n])),
    };
    const report = await describeGroupLag(admin, 'g');
    expect(report.offsets.map((o) => [o.topic, o.partition, o.lag])).toEqual([['orders', 0, 5]]);
    expect(Object.keys(report)).toEqual(['group', 'state', 'protocolType', 'protocol', 'members', 'offsets', 'totalLag']);
    await expect(
      describeGroupLag({ ...admin, describeGroup: async () => ({ ...detail, state: 'Dead' }), committedOffsets: async () => [] }, 'nobody'),
    ).rejects.toThrow('Consumer group "nobody" does not exist.');
  });
});

describe('groups: reset plan', () => {
  const ends = marks([0, 10n, 100n], [1, 0n, 3n]);
  const committed = [{ topic: 't', partition: 0, offset: 42n }];

  it('earliest and latest are the watermarks; current is null without a commit', () => {
    expect(resetPlan('t', { kind: 'start' }, ends, committed)).toEqual([
      { topic: 't', partition: 0, current: 42, next: 10 },
      { topic: 't', partition: 1, current: null, next: 0 },
    ]);
    expect(resetPlan('t', { kind: 'end' }, ends, committed).map((r) => r.next)).toEqual([100, 3]);
  });

  it('an offset below earliest moves up to it, one above latest down to it', () => {
    expect(resetPlan('t', { kind: 'offset', offset: 5n }, ends, committed).map((r) => r.next)).toEqual([10, 3]);
    expect(resetPlan('t', { kind: 'offset', offset: 50n }, ends, []).map((r) => r.next)).toEqual([50, 3]);
  });

  it('parses exactly one target', () => {
    expect(parseResetTarget({ toEarliest: true })).toEqual({ kind: 'start' });
    expect(parseResetTarget({ toLatest: true })).toEqual({ kind: 'end' });
    expect(parseResetTarget({ toOffset: '7' })).toEqual({ kind: 'offset', offset: 7n });
    expect(() => parseResetTarget({})).toThrow('Say where to move the offsets: --to-earliest, --to-latest or --to-offset N.');
    expect(() => parseResetTarget({ toEarliest: true, toOffset: '1' })).toThrow('--to-earliest and --to-offset cannot be combined.');
    expect(() => parseResetTarget({ toOffset: '-1' })).toThrow('--to-offset "-1" is not an offset.');
  });

  it('a dry run commits nothing; --execute commits the plan, but not while the group has members', async () => {
    const set: unknown[] = [];
    const admin = (members: GroupMember[]) => ({
      requireTopic: async () => undefined,
      committedOffsets: async () => committed,
      watermarks: async () => ends,
      describeGroup: async (): Promise<GroupDetail> => ({
        group: 'g',
        state: members.length ? 'Stable' : 'Empty',
        protocolType: 'consumer',
        protocol: 'range',
        members,
      }),
      setOffsets: async (_g: string, _t: string, offsets: unknown) => void set.push(offsets),
    });
    await resetOffsets(admin([]), { group: 'g', topic: 't', target: { kind: 'end' }, execute: false });
    expect(set).toEqual([]);
    await resetOffsets(admin([]), { group: 'g', topic: 't', target: { kind: 'end' }, execute: true });
    expect(set).toEqual([
      [
        { partition: 0, offset: 100n },
        { partition: 1, offset: 3n },
      ],
    ]);
    await expect(resetOffsets(admin([member('m1', {}), member('m2', {})]), { group: 'g', topic: 't', target: { kind: 'end' }, execute: true })).rejects.toThrow(
      'Consumer group "g" has 2 active members; nothing was changed.',
    );
    expect(set).toHaveLength(1);
  });
});

describe('topics: produce', () => {
  const msg = (value: string, key: string | null = null): ProduceMessage => ({ key, value });

  it('splits KEY<sep>VALUE at the first separator; without a separator the line is the value', () => {
    expect(parseLine('p1:{"a":1}', null, ':')).toEqual({ key: 'p1', value: '{"a":1}' });
    expect(parseLine('a::b', null, '::')).toEqual({ key: 'a', value: 'b' });
    expect(parseLine('k:v:w', null, ':')).toEqual({ key: 'k', value: 'v:w' });
    expect(parseLine('no sep', 'fixed', undefined)).toEqual({ key: 'fixed', value: 'no sep' });
    expect(parseLine('no sep', null, ':')).toBeUndefined();
  });

  it('reads lines (CRLF too) and stops at the first bad one with its number', async () => {
    const read = [];
    for await (const m of lineMessages(Readable.from(['a:1\r\nb:', '2\nbad\nc:3\n']), null, ':')) read.push(m);
    expect(read).toEqual([msg('1', 'a'), msg('2', 'b'), { badLine: 3 }]);
  });

  it('batches by count: a full batch goes at once, the rest at flush', () => {
    const b = new Batcher({ maxCount: 2, maxBytes: 1_000 });
    expect(b.add(msg('a'))).toEqual([]);
    expect(b.add(msg('b'))).toEqual([[msg('a'), msg('b')]]);
    expect(b.add(msg('c'))).toEqual([]);
    expect(b.flush()).toEqual([[msg('c')]]);
    expect(b.flush()).toEqual([]);
  });

  it('batches by bytes of key, value and headers; an oversized message goes alone', () => {
    // Each message: 4 bytes of value + 1 of key + 3 of header ("h" + "xy") = 8.
    const b = new Batcher({ maxCount: 100, maxBytes: 20 }, { h: 'xy' });
    expect(b.add(msg('aaaa', 'k'))).toEqual([]);
    expect(b.add(msg('bbbb', 'k'))).toEqual([]);
    expect(b.add(msg('cccc', 'k'))).toEqual([[msg('aaaa', 'k'), msg('bbbb', 'k')]]);
    expect(b.add(msg('x'.repeat(30)))).toEqual([[msg('cccc', 'k')], [msg('x'.repeat(30))]]);
    // Bytes, not characters: 7 × "é" is 14 bytes, + 3 of header = 17; the next 4 do not fit.
    expect(b.add(msg('ééééééé'))).toEqual([]);
    expect(b.add(msg('abcd'))).toEqual([[msg('ééééééé')]]);
  });

  it('sends every line in batches and counts them', async () => {
    const sent: ProduceMessage[][] = [];
    const input = Readable.from([Array.from({ length: 5 }, (_, i) => `line ${i}`).join('\n')]);
    const count = await sendLines(input, async (batch) => void sent.push(batch), { key: 'k', headers: {}, limits: { maxCount: 2, maxBytes: 1_000 } });
    expect(count).toBe(5);
    expect(sent.map((b) => b.map((m) => m.value))).toEqual([['line 0', 'line 1'], ['line 2', 'line 3'], ['line 4']]);
    expect(sent.flat().every((m) => m.key === 'k')).toBe(true);
  });

  it('a bad line: what came before is sent, the error names the line', async () => {
    const sent: ProduceMessage[][] = [];
    const send = async (batch: ProduceMessage[]) => void sent.push(batch);
    await expect(sendLines(Readable.from(['a:1\nb:2\nc:3\noops\nd:4\n']), send, { key: null, separator: ':', headers: {} })).rejects.toMatchObject({
      code: 'PRODUCE_LINE',
      message: 'Line 4 has no key separator ":"; lines 1-3 were sent, nothing after.',
    });
    expect(sent.flat().map((m) => m.key)).toEqual(['a', 'b', 'c']);
    expect(badLineError(1, '|').message).toBe('Line 1 has no key separator "|"; nothing was sent.');
    expect(badLineError(2, ':').message).toBe('Line 2 has no key separator ":"; line 1 was sent, nothing after.');
  });
});
