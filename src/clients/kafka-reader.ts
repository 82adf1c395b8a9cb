import { createRequire } from 'node:module';
import { RetryExhausted, retry } from '../lib/retry.js';
import type { KafkaTarget } from '../lib/targets.js';
import { decodeFetchResponse, FETCH_VERSIONS, type FetchResponse, type LegacyMessage } from './fetch-response.js';
import { type KafkaMessage, kafkaClient, kafkaConnectionError, unreachable } from './kafka.js';
import { batchRecords, type RecordBatch, RecordCursor } from './record-batch.js';

/** A record as read from a partition; key, value and headers stay bytes until formatted. */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch, as a decimal string (Kafka's int64). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | string | null | undefined>;
}

/** A message a kafkajs consumer handed over, as the record the sink and the tail work with. */
export function toKafkaRecord(topic: string, partition: number, message: KafkaMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key ?? null,
    value: message.value,
    headers: (message.headers ?? {}) as KafkaRecord['headers'],
  };
}

export interface ReadOptions {
  until?: Map<number, bigint>;
  signal?: AbortSignal;
  maxWaitMs?: number;
}

export interface ReadBatch {
  partition: number;
  records: KafkaRecord[];
  /** The partition's position after this batch (the next offset to read). */
  next: bigint;
}

// The parts of kafkajs' internal Cluster/Broker that a group-less reader needs.
interface FetchArguments {
  replicaId: number;
  isolationLevel: number;
  maxWaitTime: number;
  minBytes: number;
  maxBytes: number;
  topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
}
/** What kafkajs' connection sends: an encoded request and how to decode and check its answer. */
interface ProtocolRequest {
  request: { apiKey: number; apiVersion: number };
  response: { decode(raw: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> };
  requestTimeout?: number;
}
interface InternalBroker {
  fetch(request: FetchArguments): Promise<{ responses: { topicName: string; partitions: KafkajsPartition[] }[] }>;
  lookupRequest(apiKey: number, definition: unknown): (request: FetchArguments & { rackId: string }) => ProtocolRequest;
}
interface KafkajsPartition {
  partition: number;
  messages: LegacyMessage[];
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(query: { nodeId: string }): Promise<InternalBroker>;
}

/** One partition's part of a fetch: its record batches, records still bytes. */
export interface RecordSet {
  partition: number;
  /** The position the fetch asked from; a compressed batch can start before it. */
  from: bigint;
  batches: RecordBatch[];
  /** Records in the old message format (magic 0/1), already decoded by kafkajs. */
  legacy?: KafkaRecord[];
  /** The partition's position after this set (the next offset to read). */
  next: bigint;
}

/** The data records of a record set, from its `from` on. */
export function recordSetRecords(set: RecordSet, topic: string): KafkaRecord[] {
  if (set.legacy) return set.legacy;
  const cursor = new RecordCursor();
  return set.batches.flatMap((b) => batchRecords(b, topic, set.partition, set.from, cursor));
}

const FETCH_API_KEY = 1;
// kafkajs sends requests through a module-private method of its Broker; the description is stable in 2.x.
const SEND_REQUEST = 'private:Broker:sendRequest';
let fetchDefinition: unknown;
function sendRequest(broker: InternalBroker): (request: ProtocolRequest) => Promise<unknown> {
  const symbol = Object.getOwnPropertySymbols(Object.getPrototypeOf(broker)).find((s) => s.description === SEND_REQUEST);
  if (!symbol) throw new Error('kafkajs no longer exposes its broker request method; pin kafkajs 2.2.x');
  const send = (broker as unknown as Record<symbol, (request: ProtocolRequest) => Promise<unknown>>)[symbol]!;
  return (request) => send.call(broker, request);
}

const READ_UNCOMMITTED = 0;
const PARTITION_MAX_BYTES = 1024 * 1024;
const RETRIABLE = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'NOT_COORDINATOR',
]);
/** What a broker that died or restarted under the reader looks like from kafkajs (the connection, not the request, failed). */
const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
]);
/**
 * How long one fetch keeps looking for a partition's leader: a killed leader is replaced once the
 * controller fences it (broker.session.timeout.ms, 9 s by default) and elects another.
 */
const LEADER_CHANGE_DEADLINE_MS = 45_000;

/** A failure that a metadata refresh and another fetch from the same positions can get past. */
export function isLeaderChange(error: unknown): boolean {
  const e = error as { type?: string; name?: string; cause?: unknown };
  if (RETRIABLE.has(e?.type ?? '') || TRANSIENT.has(e?.name ?? '')) return true;
  // kafkajs' own retrier gave up on one of the above (a connection refused several times).
  return e?.name === 'KafkaJSNumberOfRetriesExceeded' && e.cause !== undefined && isLeaderChange(e.cause);
}

/**
 * Reads partitions at positions the caller chooses, without a consumer group and without commits
 * (kcat's and the console consumer's assign mode). kafkajs only offers group consumers, so this
 * drives its cluster and Fetch request directly; the next fetch is in flight while the caller
 * writes the previous batch out.
 */
export class PartitionReader {
  private constructor(
    private readonly cluster: InternalCluster,
    readonly topic: string,
    private readonly target: string | KafkaTarget,
  ) {}

  static async open(target: string | KafkaTarget, topic: string): Promise<PartitionReader> {
    const kafka = kafkaClient(target, 'outboxctl-tail');
    // kafkajs keeps its cluster factory behind a module-private symbol; its description is stable in 2.x.
    const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
    if (!symbol) throw new Error('kafkajs no longer exposes its cluster factory; pin kafkajs 2.2.x');
    const create = (kafka as unknown as Record<symbol, (o: object) => InternalCluster>)[symbol]!;
    const cluster = create({ metadataMaxAge: 300_000, allowAutoTopicCreation: false, isolationLevel: READ_UNCOMMITTED });
    try {
      await cluster.connect();
    } catch (error) {
      throw await kafkaConnectionError(target, error);
    }
    await cluster.addTargetTopic(topic);
    return new PartitionReader(cluster, topic, target);
  }

  partitions(): number[] {
    return this.cluster
      .findTopicPartitionMetadata(this.topic)
      .map((p) => p.partitionId)
      .sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await this.cluster.disconnect().catch(() => undefined);
  }

  /**
   * Yields batches from every partition in `positions` (updated in place), until `done`
   * says stop or the signal aborts. A partition whose position reaches its entry in `until` is no longer fetched.
   */
  async *batches(positions: Map<number, bigint>, options: ReadOptions = {}): AsyncGenerator<ReadBatch> {
    for await (const set of this.recordSets(positions, options)) yield { partition: set.partition, records: recordSetRecords(set, this.topic), next: set.next };
  }

  /** As `batches`, with each partition's records left as bytes in their batches (see record-batch.ts). */
  async *recordSets(positions: Map<number, bigint>, options: ReadOptions = {}): AsyncGenerator<RecordSet> {
    const active = () => [...positions.keys()].filter((p) => options.until === undefined || positions.get(p)! < (options.until.get(p) ?? 0n));
    let pending = active().length && !options.signal?.aborted ? this.fetchOnce(active(), positions, options.maxWaitMs ?? 500) : undefined;
    // Aborted before the first batch is awaited: its rejection (the connection closed) must not go unhandled.
    pending?.catch(() => undefined);
    while (pending && !options.signal?.aborted) {
      const sets = await pending;
      for (const s of sets) positions.set(s.partition, s.next);
      // A fetch that answered at once without progress (an empty batch left by compaction): do not spin.
      if (sets.length === 0) await new Promise((r) => setTimeout(r, 100));
      const next = active();
      pending = next.length && !options.signal?.aborted ? this.fetchOnce(next, positions, options.maxWaitMs ?? 500) : undefined;
      // Swallow a rejection of the prefetch if the consumer stops early; it resurfaces when awaited.
      pending?.catch(() => undefined);
      for (const s of sets) yield s;
    }
  }

  /**
   * One fetch; a moved or dead leader is looked up again and the fetch retried, within a deadline.
   * Positions move only with a whole answer, so a retried fetch neither skips nor repeats a record.
   */
  private async fetchOnce(partitions: number[], positions: Map<number, bigint>, maxWaitMs: number): Promise<RecordSet[]> {
    try {
      return await retry(
        async (attempt) => {
          if (attempt > 1) await this.cluster.refreshMetadata();
          return this.fetchFromLeaders(partitions, positions, maxWaitMs);
        },
        { deadlineMs: LEADER_CHANGE_DEADLINE_MS, initialDelayMs: 200, factor: 2, maxDelayMs: 2_000, retryable: isLeaderChange },
      );
    } catch (error) {
      const last = error instanceof RetryExhausted ? error.lastError : error;
      // No leader answered within the deadline: the cluster (or this machine's way to it) is gone.
      throw isLeaderChange(last) ? unreachable(this.target, last) : last;
    }
  }

  private async fetchFromLeaders(partitions: number[], positions: Map<number, bigint>, maxWaitMs: number): Promise<RecordSet[]> {
    const byLeader = this.cluster.findLeaderForPartitions(this.topic, partitions);
    const sets = await Promise.all(
      Object.entries(byLeader).map(async ([nodeId, ps]) => {
        const broker = await this.cluster.findBroker({ nodeId });
        const request: FetchArguments = {
          replicaId: -1,
          isolationLevel: READ_UNCOMMITTED,
          maxWaitTime: maxWaitMs,
          minBytes: 1,
          maxBytes: PARTITION_MAX_BYTES * Math.max(ps.length, 4),
          topics: [
            { topic: this.topic, partitions: ps.map((p) => ({ partition: p, fetchOffset: positions.get(p)!.toString(), maxBytes: PARTITION_MAX_BYTES })) },
          ],
        };
        return this.fetchRecordSets(broker, request, positions);
      }),
    );
    return sets.flat();
  }

  /** One Fetch to one broker, its answer decoded into record sets (kafkajs checks the partitions' error codes). */
  private async fetchRecordSets(broker: InternalBroker, request: FetchArguments, positions: Map<number, bigint>): Promise<RecordSet[]> {
    fetchDefinition ??= createRequire(import.meta.url)('kafkajs/src/protocol/requests').requests.Fetch;
    const protocol = broker.lookupRequest(FETCH_API_KEY, fetchDefinition)({ ...request, rackId: '' });
    const version = protocol.request.apiVersion;
    const sets: RecordSet[] = [];
    if (version < FETCH_VERSIONS.min || version > FETCH_VERSIONS.max) {
      // A broker older than Kafka 1.0: kafkajs decodes its answer, record by record.
      const response = await broker.fetch(request);
      for (const t of response.responses) for (const p of t.partitions) sets.push(this.legacySet(p.partition, positions.get(p.partition)!, p.messages));
      return sets.filter((s) => s.next > s.from);
    }
    const { parse } = protocol.response;
    const response = (await sendRequest(broker)({ ...protocol, response: { decode: (raw) => decodeFetchResponse(raw, version), parse } })) as FetchResponse;
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const from = positions.get(p.partition)!;
        if (p.legacy) sets.push(this.legacySet(p.partition, from, p.legacy));
        else {
          let next = from;
          for (const b of p.batches) {
            const end = b.baseOffset + BigInt(b.lastOffsetDelta) + 1n;
            if (end > next) next = end;
          }
          sets.push({ partition: p.partition, from, batches: p.batches, next });
        }
      }
    }
    return sets.filter((s) => s.next > s.from);
  }

  private legacySet(partition: number, from: bigint, messages: LegacyMessage[]): RecordSet {
    let next = from;
    const records: KafkaRecord[] = [];
    for (const m of messages) {
      const offset = BigInt(m.offset);
      // A compressed batch can start before the requested offset.
      if (offset < from) continue;
      next = offset + 1n;
      if (m.isControlRecord) continue;
      records.push({ topic: this.topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers ?? {} });
    }
    return { partition, from, batches: [], legacy: records, next };
  }
}
