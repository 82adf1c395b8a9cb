import kafkajs from 'kafkajs';
import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { registerDecompressionCodecs } from '../../src/clients/kafka-codecs.js';
import type { KafkaRecord } from '../../src/clients/kafka-reader.js';
import { embeddedJson, parseFormat, renderRecord } from '../../src/tail/format.js';
import { unwrapOutbox } from '../../src/tail/outbox.js';
import { parseSince, parseStart, startPositions } from '../../src/tail/start.js';

const record = (over: Partial<KafkaRecord> = {}): KafkaRecord => ({
  topic: 'parcel.outbox',
  partition: 1,
  offset: '42',
  timestamp: String(Date.parse('2026-11-26T10:00:00.000Z')),
  key: Buffer.from('p-1'),
  value: Buffer.from('{"a":1}'),
  headers: { id: Buffer.from('e-1') },
  ...over,
});

describe('tail: start positions', () => {
  const marks = [
    { partition: 0, low: 10n, high: 100n },
    { partition: 1, low: 0n, high: 3n },
  ];
  it('start, end, N, -N and --since per partition, clamped to what exists', () => {
    expect([...startPositions({ kind: 'start' }, marks)]).toEqual([
      [0, 10n],
      [1, 0n],
    ]);
    expect([...startPositions({ kind: 'end' }, marks)]).toEqual([
      [0, 100n],
      [1, 3n],
    ]);
    expect([...startPositions({ kind: 'offset', offset: 5n }, marks)]).toEqual([
      [0, 10n],
      [1, 3n],
    ]);
    expect([...startPositions({ kind: 'last', count: 5n }, marks)]).toEqual([
      [0, 95n],
      [1, 0n],
    ]);
    expect([
      ...startPositions(
        { kind: 'since', timestampMs: 0 },
        marks,
        new Map([
          [0, 50n],
          [1, -1n],
        ]),
      ),
    ]).toEqual([
      [0, 50n],
      [1, 3n],
    ]);
  });
  it('parses the flags, refusing two start positions at once', () => {
    expect(parseStart({ fromBeginning: true })).toEqual({ kind: 'start' });
    expect(parseStart({ offset: '-5' })).toEqual({ kind: 'last', count: 5n });
    expect(parseStart({ offset: '7' })).toEqual({ kind: 'offset', offset: 7n });
    expect(parseStart({})).toBeUndefined();
    expect(() => parseStart({ fromBeginning: true, since: '-1m' })).toThrow('--from-beginning and --since cannot be combined; choose one start position.');
    expect(() => parseStart({ offset: 'middle' })).toThrow('--offset "middle" is not start, end, N or -N.');
    const now = new Date('2026-11-26T10:00:00Z');
    expect(parseSince('-15m', now)).toBe(now.getTime() - 15 * 60_000);
    expect(parseSince('2h', now)).toBe(now.getTime() - 2 * 3_600_000);
    expect(parseSince('2026-11-26T09:00:00Z', now)).toBe(Date.parse('2026-11-26T09:00:00Z'));
  });
});

describe('tail: formats', () => {
  it('json embeds JSON documents, keeps other text (and numbers) as strings', () => {
    const line = JSON.parse(renderRecord(record(), '{"a":1}', { format: parseFormat('json'), printKey: false, pretty: false })) as Record<string, unknown>;
    expect(line).toEqual({
      topic: 'parcel.outbox',
      partition: 1,
      offset: 42,
      timestamp: '2026-11-26T10:00:00.000Z',
      key: 'p-1',
      headers: { id: 'e-1' },
      value: { a: 1 },
    });
    expect(embeddedJson('12345678901234567890')).toBe('12345678901234567890');
    expect(embeddedJson('{broken')).toBe('{broken');
  });
  it("templates take kcat's tokens and escapes, one line per record", () => {
    const format = parseFormat('%t/%p@%o %k=%v [%h] %T\\t%S');
    expect(renderRecord(record(), '{"a":1}', { format, printKey: false, pretty: false })).toBe(
      `parcel.outbox/1@42 p-1={"a":1} [id=e-1] ${Date.parse('2026-11-26T10:00:00.000Z')}\t7\n`,
    );
    expect(() => parseFormat('%q')).toThrow('--format uses %q, which is not a template token.');
    expect(() => parseFormat('yaml')).toThrow('--format "yaml" is neither raw, json nor a template.');
  });
  it('a header with a null value (as in some Connect dead letters) prints as empty, not a crash', () => {
    const r = record({ headers: { '__connect.errors.exception.message': null, id: Buffer.from('e-1') } });
    expect(JSON.parse(renderRecord(r, '{}', { format: parseFormat('json'), printKey: false, pretty: false })).headers).toEqual({
      '__connect.errors.exception.message': '',
      id: 'e-1',
    });
    expect(renderRecord(r, '{}', { format: parseFormat('%h'), printKey: false, pretty: false })).toBe('__connect.errors.exception.message=,id=e-1\n');
  });

  it('raw prints the value (key<TAB>value with --print-key), null as the console consumer does', () => {
    expect(renderRecord(record({ key: null }), null, { format: { kind: 'raw' }, printKey: true, pretty: false })).toBe('null\tnull\n');
  });
});

describe('tail: --unwrap', () => {
  it('reads the envelope the outbox router places, with occurredAt as ISO time', () => {
    const value = {
      eventId: 'e-9',
      eventType: 'ParcelCreated',
      aggregateType: 'parcel',
      aggregateId: 'p-1',
      occurredAt: 1_795_000_000_000,
      payload: { contents: 'Kotlin is cool' },
    };
    expect(unwrapOutbox(record({ value: Buffer.from(JSON.stringify(value)) }))).toEqual({ ...value, occurredAt: new Date(1_795_000_000_000).toISOString() });
  });
  it('falls back to the id header, key and record time; a record without an event id is not an event', () => {
    expect(unwrapOutbox(record())).toEqual({
      eventId: 'e-1',
      eventType: null,
      aggregateType: null,
      aggregateId: 'p-1',
      occurredAt: '2026-11-26T10:00:00.000Z',
      payload: { a: 1 },
    });
    expect(unwrapOutbox(record({ headers: {} }))).toBeUndefined();
  });
});

describe('kafka codecs', () => {
  it('decodes snappy in xerial framing (as Java producers write it) and raw', async () => {
    registerDecompressionCodecs();
    const codec = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy]() as { decompress(b: Buffer): Promise<Buffer> };
    const text = 'outbox '.repeat(1000);
    const block = Buffer.from(snappy.compress(Buffer.from(text)));
    const header = Buffer.alloc(16);
    Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]).copy(header);
    header.writeInt32BE(1, 8);
    header.writeInt32BE(1, 12);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(block.length);
    const framed = Buffer.concat([header, size, block, size, block]);
    expect((await codec.decompress(framed)).toString()).toBe(text + text);
    expect((await codec.decompress(block)).toString()).toBe(text);
  });
});
