import { createRequire } from 'node:module';
import { compressFrameSync } from 'lz4-napi';
import lz4js from 'lz4js';
import { describe, expect, it } from 'vitest';
import { decodeFetchResponse } from '../../src/clients/fetch-response.js';
import { type KafkaRecord, type RecordSet, recordSetRecords } from '../../src/clients/kafka-reader.js';
import { lz4DecompressFrame } from '../../src/clients/lz4-frame.js';
import { decodeRecordSet } from '../../src/clients/record-batch.js';
import { renderRecord } from '../../src/tail/format.js';
import { rawLines } from '../../src/tail/raw.js';

const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (batch: object) => Promise<Encoded> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => unknown;
const kafkajsFetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as {
  decode(raw: Buffer): Promise<{ responses: { partitions: { messages: (KafkaRecord & { isControlRecord: boolean })[] }[] }[] }>;
};
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string): unknown };

const T0 = Date.parse('2026-11-26T10:00:00Z');
interface Input {
  key: string | null;
  value: string | null;
  headers?: Record<string, string | string[]>;
}

/** A record batch as kafkajs' producer encodes it (gzip = codec 1). */
async function batch(firstOffset: number, inputs: Input[], codec: 0 | 1 = 0): Promise<Buffer> {
  const records = inputs.map((r, i) => Record({ offsetDelta: i, timestampDelta: i * 1000, key: r.key, value: r.value, headers: r.headers }));
  const encoded = await RecordBatch({
    compression: codec,
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp: T0,
    maxTimestamp: T0 + (inputs.length - 1) * 1000,
    lastOffsetDelta: inputs.length - 1,
    records,
  });
  return encoded.buffer;
}

/** The same batch with its records compressed by `compress` (codec 3 = lz4). */
function recompressed(plain: Buffer, codec: number, compress: (b: Buffer) => Buffer): Buffer {
  const body = compress(plain.subarray(61));
  const header = Buffer.from(plain.subarray(0, 61));
  header.writeInt32BE(61 - 12 + body.length, 8);
  header.writeInt16BE((header.readInt16BE(21) & ~0x07) | codec, 21);
  return Buffer.concat([header, body]);
}

/** A Fetch v11 response with one partition holding `set`. */
function fetchV11(set: Buffer, partition = 0): Buffer {
  const head = Buffer.alloc(4 + 2 + 4 + 4 + 2 + 5 + 4);
  let at = head.writeInt32BE(0, 0); // throttle
  at = head.writeInt16BE(0, at);
  at = head.writeInt32BE(0, at); // session
  at = head.writeInt32BE(1, at); // one topic
  at = head.writeInt16BE(5, at);
  at += head.write('topic', at);
  head.writeInt32BE(1, at); // one partition
  const p = Buffer.alloc(4 + 2 + 8 * 3 + 4 + 4 + 4);
  at = p.writeInt32BE(partition, 0);
  at = p.writeInt16BE(0, at);
  at = p.writeBigInt64BE(100n, at);
  at = p.writeBigInt64BE(100n, at);
  at = p.writeBigInt64BE(0n, at);
  at = p.writeInt32BE(-1, at); // no aborted transactions
  at = p.writeInt32BE(-1, at); // no preferred replica
  p.writeInt32BE(set.length, at);
  return Buffer.concat([head, p, set]);
}

const inputs: Input[] = [
  { key: 'p-1', value: '{"a":1}', headers: { id: 'e-1', seen: ['x', 'y'] } },
  { key: null, value: 'no key' },
  { key: 'p-3', value: null },
  { key: 'p-4', value: 'ü and € are UTF-8', headers: { empty: '' } },
];

async function ours(raw: Buffer, from: bigint): Promise<RecordSet> {
  const response = await decodeFetchResponse(raw, 11);
  const p = response.responses[0]!.partitions[0]!;
  return { partition: p.partition, from, batches: p.batches, next: 0n };
}

describe('tail: record batches read from the fetch buffer', () => {
  it('gives the records kafkajs decodes from the same Fetch response (plain and gzip, a partial batch at the end left out)', async () => {
    const set = Buffer.concat([await batch(10, inputs), await batch(14, inputs, 1)]);
    const partial = (await batch(18, inputs)).subarray(0, 70);
    const raw = fetchV11(Buffer.concat([set, partial]));
    const theirs = (await kafkajsFetchV11.decode(raw)).responses[0]!.partitions[0]!.messages;
    const mine = recordSetRecords(await ours(raw, 10n), 'topic');
    expect(mine).toHaveLength(8);
    expect(mine).toEqual(
      theirs.map((m) => ({ topic: 'topic', partition: 0, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers })),
    );
    expect(mine[0]!.headers).toEqual({ id: Buffer.from('e-1'), seen: [Buffer.from('x'), Buffer.from('y')] });
    expect(mine.map((r) => r.offset)).toEqual(['10', '11', '12', '13', '14', '15', '16', '17']);
  });

  it('skips the records of a batch before the position asked for', async () => {
    const raw = fetchV11(await batch(10, inputs));
    expect(recordSetRecords(await ours(raw, 12n), 'topic').map((r) => r.offset)).toEqual(['12', '13']);
  });

  it('reads lz4 frames with the native block decoder and with lz4js alike', () => {
    const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => `{"eventId":"${i}","status":"registered"}`).join('\n'));
    for (const frame of [compressFrameSync(text), Buffer.from((lz4js as unknown as { compress(b: Uint8Array): Uint8Array }).compress(text))]) {
      expect(lz4DecompressFrame(frame).equals(text)).toBe(true);
      expect(lz4DecompressFrame(frame, null).equals(text)).toBe(true);
    }
  });

  it('an lz4 batch decodes to the records of the same batch uncompressed', async () => {
    const plain = await batch(0, inputs);
    const lz4 = recompressed(plain, 3, (b) => compressFrameSync(b));
    const [a] = decodeRecordSet(plain);
    const [b] = decodeRecordSet(lz4);
    expect(b!.records.equals(a!.records)).toBe(true);
    expect({ ...b, records: null }).toEqual({ ...a, records: null });
  });
});

describe('tail: --format raw straight from the batches', () => {
  const slow = (records: KafkaRecord[], printKey: boolean) =>
    records.map((r) => renderRecord(r, r.value === null ? null : r.value.toString('utf8'), { format: { kind: 'raw' }, printKey, pretty: false })).join('');

  it('prints what the record-by-record path prints, with and without keys, from `from` up to `end` and `limit`', async () => {
    const raw = fetchV11(Buffer.concat([await batch(10, inputs), await batch(14, inputs, 1)]));
    for (const printKey of [false, true]) {
      for (const [from, end, limit, expected] of [
        [10n, undefined, Number.POSITIVE_INFINITY, 8],
        [11n, 16n, Number.POSITIVE_INFINITY, 5],
        [10n, undefined, 3, 3],
        [13n, 14n, 9, 1],
      ] as const) {
        const records = recordSetRecords(await ours(Buffer.from(raw), from), 'topic')
          .filter((r) => end === undefined || BigInt(r.offset) < end)
          .slice(0, limit);
        expect(records).toHaveLength(expected);
        // rawLines writes the lines over the batches' buffers: each run gets its own copy.
        const { chunks, count } = rawLines(await ours(Buffer.from(raw), from), printKey, end, limit);
        expect(count).toBe(expected);
        expect(Buffer.concat(chunks).toString()).toBe(slow(records, printKey));
      }
    }
  });

  it('bytes that are not UTF-8: decoding the whole chunk gives the replacement characters decoding each value gives', async () => {
    const bad = [Buffer.from([0x61, 0xc3]), Buffer.from([0xa9, 0x62]), Buffer.from([0xff]), Buffer.from('ok')];
    const records = bad.map((v, i) => Record({ offsetDelta: i, key: null, value: v }));
    const encoded = await RecordBatch({ firstOffset: Long.fromValue(0), firstTimestamp: T0, maxTimestamp: T0, lastOffsetDelta: 3, records });
    const { chunks } = rawLines({ partition: 0, from: 0n, batches: decodeRecordSet(encoded.buffer), next: 4n }, false, undefined, 10);
    expect(chunks.length).toBe(1);
    expect(Buffer.from(chunks[0]!.toString('utf8')).toString()).toBe(bad.map((v) => `${v.toString('utf8')}\n`).join(''));
  });
});
