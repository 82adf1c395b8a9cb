import { unzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import snappy from 'snappyjs';
import type { KafkaRecord } from './kafka-reader.js';
import { lz4DecompressFrame } from './lz4-frame.js';

/**
 * Kafka's record batch (magic 2) read straight from a fetch response: a 61-byte header, then the
 * records, compressed as a whole or not. Records stay bytes in the batch's buffer; a cursor walks
 * them without an object per record, and `batchRecords` builds records only where they are needed.
 */
export interface RecordBatch {
  baseOffset: bigint;
  lastOffsetDelta: number;
  /** Milliseconds since the epoch. */
  firstTimestamp: number;
  maxTimestamp: number;
  logAppendTime: boolean;
  /** A transaction marker batch: its records are not data. */
  control: boolean;
  count: number;
  /** The records (decompressed). */
  records: Buffer;
}

const HEADER = 61;
const MAGIC_AT = 16;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

// Kafka's Java clients frame snappy as xerial's SnappyOutputStream does: a magic header, then length-prefixed blocks.
function unsnappy(data: Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return Buffer.from(snappy.uncompress(data));
  const blocks: Buffer[] = [];
  for (let at = 16; at < data.length; ) {
    const size = data.readUInt32BE(at);
    blocks.push(Buffer.from(snappy.uncompress(data.subarray(at + 4, at + 4 + size))));
    at += 4 + size;
  }
  return Buffer.concat(blocks);
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** The records of a batch compressed with the codec its attributes name (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export function decompress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return unzipSync(data);
    case 2:
      return unsnappy(data);
    case 3:
      return lz4DecompressFrame(data);
    case 4:
      return asBuffer(zstdDecompress(data));
    default:
      throw new Error(`A record batch names compression codec ${codec}, which Kafka does not define; the topic's data may be corrupt.`);
  }
}

/** The magic byte of the first batch in a record set (2 for record batches, 0/1 for old message sets), or -1 if too short. */
export function recordSetMagic(set: Buffer): number {
  return set.length > MAGIC_AT ? set.readInt8(MAGIC_AT) : -1;
}

/**
 * The whole record batches (magic 2) at the start of a fetched record set; a partial batch at the
 * end (the broker cuts at the size asked for) is left out.
 */
export function decodeRecordSet(set: Buffer): RecordBatch[] {
  const batches: RecordBatch[] = [];
  let at = 0;
  while (at + HEADER <= set.length) {
    const length = set.readInt32BE(at + 8);
    const end = at + 12 + length;
    if (end > set.length) break;
    // Old-format messages after new batches (a topic upgraded in place): the next fetch starts there and reads them the old way.
    if (set.readInt8(at + MAGIC_AT) !== 2) break;
    const attributes = set.readInt16BE(at + 21);
    const data = set.subarray(at + HEADER, end);
    batches.push({
      baseOffset: set.readBigInt64BE(at),
      lastOffsetDelta: set.readInt32BE(at + 23),
      firstTimestamp: Number(set.readBigInt64BE(at + 27)),
      maxTimestamp: Number(set.readBigInt64BE(at + 35)),
      logAppendTime: (attributes & 0x08) !== 0,
      control: (attributes & 0x20) !== 0,
      count: set.readInt32BE(at + 57),
      records: decompress(attributes & 0x07, data),
    });
    at = end;
  }
  return batches;
}

/**
 * Walks the records of one batch, exposing each record's fields as positions in `buf`
 * (a length of -1 is a null key or value). One cursor, no object per record.
 */
export class RecordCursor {
  buf: Buffer = Buffer.alloc(0);
  private at = 0;
  private left = 0;
  offsetDelta = 0;
  timestampDelta = 0;
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headersStart = 0;
  headerCount = 0;

  reset(batch: RecordBatch): this {
    this.buf = batch.records;
    this.at = 0;
    this.left = batch.count;
    return this;
  }

  // A zigzag varint (varlong) as a number: exact up to 2^53, which offsets and times within a batch stay below.
  private varint(): number {
    const b = this.buf;
    let at = this.at;
    let byte = b[at++]!;
    let value = byte & 0x7f;
    let scale = 128;
    while (byte & 0x80) {
      if (at >= b.length) throw new Error('A record ends inside a varint; the record batch is truncated.');
      byte = b[at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    }
    this.at = at;
    // zigzag: even → value/2, odd → -(value+1)/2
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  /** Moves to the next record; false at the end of the batch. */
  next(): boolean {
    if (this.left <= 0 || this.at >= this.buf.length) return false;
    this.left--;
    const length = this.varint();
    const end = this.at + length;
    if (end > this.buf.length) throw new Error(`A record of ${length} bytes runs past the end of its batch; the record batch is truncated.`);
    this.at++; // attributes (unused)
    this.timestampDelta = this.varint();
    this.offsetDelta = this.varint();
    this.keyLength = this.varint();
    this.keyStart = this.at;
    if (this.keyLength > 0) this.at += this.keyLength;
    this.valueLength = this.varint();
    this.valueStart = this.at;
    if (this.valueLength > 0) this.at += this.valueLength;
    this.headerCount = this.varint();
    this.headersStart = this.at;
    this.at = end;
    return true;
  }

  key(): Buffer | null {
    return this.keyLength < 0 ? null : this.buf.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  value(): Buffer | null {
    return this.valueLength < 0 ? null : this.buf.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  /** Headers as kafkajs gives them: name → value, a repeated name → an array of its values. */
  headers(): KafkaRecord['headers'] {
    const out: KafkaRecord['headers'] = {};
    const end = this.at;
    this.at = this.headersStart;
    try {
      for (let i = 0; i < this.headerCount; i++) {
        const keyLength = this.varint();
        const name = this.buf.toString('utf8', this.at, this.at + Math.max(keyLength, 0));
        this.at += Math.max(keyLength, 0);
        const valueLength = this.varint();
        const value = valueLength < 0 ? null : this.buf.subarray(this.at, this.at + valueLength);
        if (valueLength > 0) this.at += valueLength;
        const seen = out[name];
        out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value as Buffer] : [seen as Buffer, value as Buffer];
      }
    } finally {
      this.at = end;
    }
    return out;
  }
}

/** The data records of a batch at or after `from` (a compressed batch can start before it), as records. */
export function batchRecords(batch: RecordBatch, topic: string, partition: number, from: bigint, cursor = new RecordCursor()): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  if (batch.control) return records;
  const skip = from > batch.baseOffset ? Number(from - batch.baseOffset) : 0;
  cursor.reset(batch);
  while (cursor.next()) {
    if (cursor.offsetDelta < skip) continue;
    records.push({
      topic,
      partition,
      offset: (batch.baseOffset + BigInt(cursor.offsetDelta)).toString(),
      timestamp: String(batch.logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + cursor.timestampDelta),
      key: cursor.key(),
      value: cursor.value(),
      headers: cursor.headers(),
    });
  }
  return records;
}
