import { RetryExhausted, retry } from '../lib/retry.js';
import type { KafkaTarget } from '../lib/targets.js';
import { type KafkaMessage, kafkaClient, kafkaConnectionError, unreachable } from './kafka.js';

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

export interface ReadBatch {
  partition: number;
  records: KafkaRecord[];
  /** The partition's position after this batch (the next offset to read). */
  next: bigint;
}

// The parts of kafkajs' internal Cluster/Broker that a group-less reader needs.
interface InternalBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
}
interface FetchedPartition {
  partition: number;
  messages: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers?: KafkaRecord['headers']; isControlRecord?: boolean }[];
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
  async *batches(
    positions: Map<number, bigint>,
    options: { until?: Map<number, bigint>; signal?: AbortSignal; maxWaitMs?: number } = {},
  ): AsyncGenerator<ReadBatch> {
    const active = () => [...positions.keys()].filter((p) => options.until === undefined || positions.get(p)! < (options.until.get(p) ?? 0n));
    let pending = active().length && !options.signal?.aborted ? this.fetchOnce(active(), positions, options.maxWaitMs ?? 500) : undefined;
    // Aborted before the first batch is awaited: its rejection (the connection closed) must not go unhandled.
    pending?.catch(() => undefined);
    while (pending && !options.signal?.aborted) {
      const batches = await pending;
      for (const b of batches) positions.set(b.partition, b.next);
      // A fetch that answered at once without progress (an empty batch left by compaction): do not spin.
      if (batches.length === 0) await new Promise((r) => setTimeout(r, 100));
      const next = active();
      pending = next.length && !options.signal?.aborted ? this.fetchOnce(next, positions, options.maxWaitMs ?? 500) : undefined;
      // Swallow a rejection of the prefetch if the consumer stops early; it resurfaces when awaited.
      pending?.catch(() => undefined);
      for (const b of batches) yield b;
    }
  }

  /**
   * One fetch; a moved or dead leader is looked up again and the fetch retried, within a deadline.
   * Positions move only with a whole answer, so a retried fetch neither skips nor repeats a record.
   */
  private async fetchOnce(partitions: number[], positions: Map<number, bigint>, maxWaitMs: number): Promise<ReadBatch[]> {
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

  private async fetchFromLeaders(partitions: number[], positions: Map<number, bigint>, maxWaitMs: number): Promise<ReadBatch[]> {
    const byLeader = this.cluster.findLeaderForPartitions(this.topic, partitions);
    const responses = await Promise.all(
      Object.entries(byLeader).map(async ([nodeId, ps]) => {
        const broker = await this.cluster.findBroker({ nodeId });
        return broker.fetch({
          replicaId: -1,
          isolationLevel: READ_UNCOMMITTED,
          maxWaitTime: maxWaitMs,
          minBytes: 1,
          maxBytes: PARTITION_MAX_BYTES * 4,
          topics: [
            { topic: this.topic, partitions: ps.map((p) => ({ partition: p, fetchOffset: positions.get(p)!.toString(), maxBytes: PARTITION_MAX_BYTES })) },
          ],
        });
      }),
    );
    const batches: ReadBatch[] = [];
    for (const response of responses) {
      for (const t of response.responses) {
        for (const p of t.partitions) {
          const from = positions.get(p.partition)!;
          let next = from;
          const records: KafkaRecord[] = [];
          for (const m of p.messages) {
            const offset = BigInt(m.offset);
            // A compressed batch can start before the requested offset.
            if (offset < from) continue;
            next = offset + 1n;
            if (m.isControlRecord) continue;
            records.push({
              topic: this.topic,
              partition: p.partition,
              offset: m.offset,
              timestamp: m.timestamp,
              key: m.key,
              value: m.value,
              headers: m.headers ?? {},
            });
          }
          if (next > from) batches.push({ partition: p.partition, records, next });
        }
      }
    }
    return batches;
  }
}
