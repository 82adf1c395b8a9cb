import type { RecordSet } from '../clients/kafka-reader.js';
import { type RecordBatch, RecordCursor } from '../clients/record-batch.js';

const NULL = Buffer.from('null');

// Short keys are copied byte by byte: below ~48 bytes the loop beats a native copy and its view.
function put(from: Buffer, start: number, length: number, to: Buffer, at: number): number {
  if (length < 48) for (let i = 0; i < length; i++) to[at + i] = from[start + i]!;
  else to.set(from.subarray(start, start + length), at);
  return at + length;
}

interface Span {
  /** Offsets within the batch: records before `skip` or from `stop` on are left out. */
  skip: number;
  stop: number;
}

/**
 * `value\n` for each record, written over the batch's own buffer from its start (each line is
 * shorter than the record it comes from, so it never reaches a byte still to be read).
 */
function valuesInPlace(b: RecordBatch, span: Span, limit: number, cursor: RecordCursor): { chunk: Buffer; count: number } {
  const buf = b.records;
  let at = 0;
  let count = 0;
  cursor.reset(b);
  while (count < limit && cursor.next()) {
    if (cursor.offsetDelta < span.skip) continue;
    if (cursor.offsetDelta >= span.stop) break;
    if (cursor.valueLength < 0) at = put(NULL, 0, 4, buf, at);
    else {
      buf.copyWithin(at, cursor.valueStart, cursor.valueStart + cursor.valueLength);
      at += cursor.valueLength;
    }
    buf[at++] = 0x0a;
    count++;
  }
  return { chunk: buf.subarray(0, at), count };
}

/** `key\tvalue\n` for each record, into a new buffer (a null key and value make a line longer than its record). */
function keysAndValues(b: RecordBatch, span: Span, limit: number, cursor: RecordCursor): { chunk: Buffer; count: number } {
  const buf = b.records;
  const out = Buffer.allocUnsafe(buf.length + 3 * b.count);
  let at = 0;
  let count = 0;
  cursor.reset(b);
  while (count < limit && cursor.next()) {
    if (cursor.offsetDelta < span.skip) continue;
    if (cursor.offsetDelta >= span.stop) break;
    at = cursor.keyLength < 0 ? put(NULL, 0, 4, out, at) : put(buf, cursor.keyStart, cursor.keyLength, out, at);
    out[at++] = 0x09;
    at = cursor.valueLength < 0 ? put(NULL, 0, 4, out, at) : put(buf, cursor.valueStart, cursor.valueLength, out, at);
    out[at++] = 0x0a;
    count++;
  }
  return { chunk: out.subarray(0, at), count };
}

/**
 * `--format raw` lines (`value\n`, or `key\tvalue\n` with `printKey`; null as `null`) of a record
 * set's data records from its `from` up to (not including) `end`, at most `limit` of them, as
 * bytes: one chunk per batch, no object per record. Consumes the set: its batches' buffers are
 * reused for the lines.
 */
export function rawLines(
  set: RecordSet,
  printKey: boolean,
  end: bigint | undefined,
  limit: number,
  cursor = new RecordCursor(),
): { chunks: Buffer[]; count: number } {
  const chunks: Buffer[] = [];
  let count = 0;
  for (const b of set.batches) {
    if (b.control) continue;
    const span = {
      skip: set.from > b.baseOffset ? Number(set.from - b.baseOffset) : 0,
      stop: end === undefined ? Number.POSITIVE_INFINITY : Number(end - b.baseOffset),
    };
    if (span.stop <= 0 || count >= limit) break;
    const lines = printKey ? keysAndValues(b, span, limit - count, cursor) : valuesInPlace(b, span, limit - count, cursor);
    if (lines.chunk.length > 0) chunks.push(lines.chunk);
    count += lines.count;
  }
  return { chunks, count };
}
