/**
 * Kafka's Metadata request (API key 3, version 4: the oldest Kafka 4 still answers, non-flexible
 * encoding) and its response, as pure functions: what `topic list` and the readiness probe need
 * from a cluster in one round trip, without loading kafkajs. kafka.ts sends it; anything it cannot
 * read sends the caller to kafkajs.
 */

export const METADATA_API_KEY = 3;
export const METADATA_VERSION = 4;

export interface MetadataPartition {
  errorCode: number;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  internal: boolean;
  /** In the order the broker lists them. */
  partitions: MetadataPartition[];
}

export interface Metadata {
  brokers: { nodeId: number; host: string; port: number }[];
  controllerId: number;
  topics: MetadataTopic[];
}

function kafkaString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The request body: every topic (`topics` undefined), none (`[]`, brokers only) or these; topics are never auto-created. */
export function encodeMetadataRequest(topics: string[] | undefined): Buffer {
  const count = Buffer.alloc(4);
  count.writeInt32BE(topics === undefined ? -1 : topics.length);
  return Buffer.concat([count, ...(topics ?? []).map(kafkaString), Buffer.from([0])]);
}

class Reader {
  private at = 0;
  constructor(private readonly data: Buffer) {}

  int8(): number {
    return this.take(1, () => this.data.readInt8(this.at));
  }
  int16(): number {
    return this.take(2, () => this.data.readInt16BE(this.at));
  }
  int32(): number {
    return this.take(4, () => this.data.readInt32BE(this.at));
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    return this.take(length, () => this.data.toString('utf8', this.at, this.at + length));
  }
  string(): string {
    const value = this.nullableString();
    if (value === null) throw new Error('null where Kafka sends a string');
    return value;
  }
  array<T>(item: () => T): T[] {
    const count = this.int32();
    if (count < 0) return [];
    if (count > this.data.length) throw new Error(`array of ${count} in a response of ${this.data.length} bytes`);
    return Array.from({ length: count }, item);
  }

  private take<T>(size: number, read: () => T): T {
    if (this.at + size > this.data.length) throw new Error('response ends early');
    const value = read();
    this.at += size;
    return value;
  }
}

/** The response body (after the correlation id); throws on a truncated or malformed one. */
export function decodeMetadataResponse(body: Buffer): Metadata {
  const r = new Reader(body);
  r.int32(); // throttle_time_ms
  const brokers = r.array(() => {
    const nodeId = r.int32();
    const host = r.string();
    const port = r.int32();
    r.nullableString(); // rack
    return { nodeId, host, port };
  });
  r.nullableString(); // cluster_id
  const controllerId = r.int32();
  const topics = r.array(() => {
    const errorCode = r.int16();
    const name = r.string();
    const internal = r.int8() !== 0;
    const partitions = r.array(() => ({
      errorCode: r.int16(),
      partition: r.int32(),
      leader: r.int32(),
      replicas: r.array(() => r.int32()),
      isr: r.array(() => r.int32()),
    }));
    return { errorCode, name, internal, partitions };
  });
  return { brokers, controllerId, topics };
}
