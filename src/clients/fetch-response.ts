import { createRequire } from 'node:module';
import { decodeRecordSet, type RecordBatch, recordSetMagic } from './record-batch.js';

/** A message as kafkajs decodes the old message sets (magic 0 and 1). */
export interface LegacyMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | Buffer[] | string | null | undefined>;
  isControlRecord?: boolean;
}

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  /** Record batches (magic 2), their records still bytes. */
  batches: RecordBatch[];
  /** Messages of a partition still in the old message format, decoded by kafkajs. */
  legacy?: LegacyMessage[];
}

/** The shape kafkajs' Fetch `parse` checks for partition errors. */
export interface FetchResponse {
  throttleTime: number;
  errorCode: number;
  responses: { topicName: string; partitions: FetchedPartition[] }[];
}

type KafkajsDecoder = new (buffer: Buffer) => unknown;
let legacyDecoding: { Decoder: KafkajsDecoder; decodeMessages: (decoder: unknown) => Promise<LegacyMessage[]> } | undefined;
const legacy = () => {
  if (legacyDecoding) return legacyDecoding;
  const require = createRequire(import.meta.url);
  legacyDecoding = {
    Decoder: require('kafkajs/src/protocol/decoder') as KafkajsDecoder,
    decodeMessages: require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as (decoder: unknown) => Promise<LegacyMessage[]>,
  };
  return legacyDecoding;
};

/** The Fetch response versions this decoder reads (Kafka 4 answers from v4 up; kafkajs asks for at most v11). */
export const FETCH_VERSIONS = { min: 4, max: 11 } as const;

/**
 * Decodes a Fetch response (v4–v11) without decoding its records: each partition's record set is
 * split into batches that keep their records as bytes. Aborted transactions are not filtered
 * (the reader uses READ_UNCOMMITTED).
 */
export async function decodeFetchResponse(raw: Buffer, version: number): Promise<FetchResponse> {
  let at = 0;
  const int16 = () => {
    at += 2;
    return raw.readInt16BE(at - 2);
  };
  const int32 = () => {
    at += 4;
    return raw.readInt32BE(at - 4);
  };
  const int64 = () => {
    at += 8;
    return raw.readBigInt64BE(at - 8);
  };
  const throttleTime = int32();
  let errorCode = 0;
  if (version >= 7) {
    errorCode = int16();
    int32(); // session id
  }
  const responses: FetchResponse['responses'] = [];
  for (let t = int32(); t > 0; t--) {
    const nameLength = int16();
    const topicName = raw.toString('utf8', at, at + nameLength);
    at += nameLength;
    const partitions: FetchedPartition[] = [];
    for (let p = int32(); p > 0; p--) {
      const partition = int32();
      const partitionError = int16();
      const highWatermark = int64().toString();
      int64(); // last stable offset
      if (version >= 5) int64(); // log start offset
      const aborted = int32();
      if (aborted > 0) at += aborted * 16;
      if (version >= 11) int32(); // preferred read replica
      const size = int32();
      const set = size > 0 ? raw.subarray(at, at + size) : Buffer.alloc(0);
      at += Math.max(size, 0);
      const fetched: FetchedPartition = { partition, errorCode: partitionError, highWatermark, batches: [] };
      const magic = recordSetMagic(set);
      if (magic === 2) fetched.batches = decodeRecordSet(set);
      else if (magic >= 0) {
        const { Decoder, decodeMessages } = legacy();
        const framed = Buffer.allocUnsafe(4 + set.length);
        framed.writeInt32BE(set.length, 0);
        set.copy(framed, 4);
        fetched.legacy = await decodeMessages(new Decoder(framed));
      }
      partitions.push(fetched);
    }
    responses.push({ topicName, partitions });
  }
  return { throttleTime, errorCode, responses };
}
