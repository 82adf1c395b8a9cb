import { type KafkaConsumer, type KafkaHeaders, type KafkaProducer, kafkaClient } from '../clients/kafka.js';
import { type KafkaRecord, toKafkaRecord } from '../clients/kafka-reader.js';
import { type BulkItem, type BulkOperation, isTransient, reasonOf, type SearchClient } from '../clients/search.js';
import { UserError } from '../lib/errors.js';
import { retry } from '../lib/retry.js';
import { ES_SINK_CLASS, type SinkConfig } from './config.js';
import { type ErrorStage, type Planned, planRecord } from './documents.js';

export type SinkState = 'STARTING' | 'RUNNING' | 'RETRYING' | 'FAILED' | 'STOPPED';

export interface SinkStats {
  state: SinkState;
  group: string;
  topics: string[];
  indexed: number;
  deleted: number;
  skipped: number;
  deadLettered: number;
  /** Records the engine rejected with behavior.on.malformed.documents=ignore|warn and no DLQ. */
  rejected: number;
  lastError?: string;
}

export interface SinkOptions {
  config: SinkConfig;
  bootstrap: string;
  search: SearchClient;
  /** Index of the current-state projection (one document per parcel), or none. */
  projectionIndex?: string;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

interface Failure {
  record: KafkaRecord;
  stage: ErrorStage;
  className: string;
  message: string;
}

/** A bulk operation and the record it comes from; `projection` marks the current-state document. */
interface Operation {
  op: BulkOperation;
  plan: Planned;
  projection: boolean;
}

const MAX_BACKOFF_MS = 10_000;

/** Errors Confluent's connector treats as a malformed document (dead-lettered); any other item error fails the sink. */
const MALFORMED = new Set([
  'mapper_parsing_exception',
  'illegal_argument_exception',
  'action_request_validation_exception',
  'document_parsing_exception',
  'strict_dynamic_mapping_exception',
]);

/** An engine that is down, slow or answering 5xx: wait and send again, never skip ahead. */
export function isRetryable(error: unknown): boolean {
  if (isTransient(error)) return true;
  const e = error as { code?: string; cause?: { meta?: { statusCode?: number } } };
  if (e.code === 'SEARCH_UNREACHABLE' || e.code === 'SEARCH_FAILED') return true;
  return e.code === 'SEARCH_REJECTED' && (e.cause?.meta?.statusCode ?? 0) >= 500;
}

class SinkFailed extends Error {}

/** Some operations of a bulk request were not taken (429/5xx items, or the request failed): send them again. */
class NotTaken extends Error {}

/**
 * The embedded Elasticsearch sink: Connect's consumer group and the semantics of Confluent's
 * connector (see config.ts), with the offsets of a batch committed only once every record of it
 * is indexed, dead-lettered or deliberately skipped. Transient engine errors are retried with
 * backoff for as long as it takes; the sink never skips ahead.
 */
export class EmbeddedSink {
  readonly stats: SinkStats;
  private consumer?: KafkaConsumer;
  private producer?: KafkaProducer;
  // Aborting ends a retry pause at once, so that a stop never waits out a backoff.
  private readonly stopper = new AbortController();

  constructor(private readonly options: SinkOptions) {
    this.stats = {
      state: 'STARTING',
      group: options.config.groupId,
      topics: options.config.topics,
      indexed: 0,
      deleted: 0,
      skipped: 0,
      deadLettered: 0,
      rejected: 0,
    };
  }

  /** Joins the group and starts consuming; resolves once the first assignment arrived. */
  async start(): Promise<void> {
    const { config } = this.options;
    const kafka = kafkaClient(this.options.bootstrap, `outboxctl-sink-${config.name}`);
    const consumer = kafka.consumer({
      groupId: config.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.max(config.lingerMs, 100),
      sessionTimeout: 45_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    if (config.dlqTopic) {
      const admin = kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics().finally(() => admin.disconnect());
      if (!topics.includes(config.dlqTopic)) {
        throw new UserError(
          'SINK_DLQ_MISSING',
          `The dead-letter topic "${config.dlqTopic}" of connector "${config.name}" does not exist; the sink did not start.`,
          { hint: `Create it: \`outboxctl topic create ${config.dlqTopic}\`.` },
        );
      }
      this.producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart && !this.stopping) this.markFailed(e.payload.error);
    });
    await consumer.connect();
    // Connect's sink consumers start at the earliest offset when the group has none.
    for (const topic of config.topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (let at = 0; at < batch.messages.length; at += config.batchSize) {
          if (!isRunning() || isStale() || this.stats.state === 'FAILED') return;
          const chunk = batch.messages.slice(at, at + config.batchSize).map((m) => toKafkaRecord(batch.topic, batch.partition, m));
          try {
            await this.write(chunk, heartbeat);
          } catch (error) {
            if (error instanceof SinkFailed) return;
            throw error;
          }
          const last = chunk[chunk.length - 1]!.offset;
          resolveOffset(last);
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
          await heartbeat();
        }
      },
    });
    await joined;
    if (this.stats.state === 'STARTING') this.stats.state = 'RUNNING';
    this.options.log('info', `sink ${config.name} consuming ${config.topics.join(', ')} as group ${config.groupId} into ${this.options.search.url}`);
  }

  private get stopping(): boolean {
    return this.stopper.signal.aborted;
  }

  async stop(): Promise<void> {
    this.stopper.abort(new SinkFailed('stopping'));
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    if (this.stats.state !== 'FAILED') this.stats.state = 'STOPPED';
  }

  /** Like a failed Connect task: stops consuming, keeps the error for `status`, commits nothing more. */
  private markFailed(error: unknown): void {
    this.stats.state = 'FAILED';
    this.stats.lastError = error instanceof Error ? error.message : String(error);
    this.consumer?.pause(this.options.config.topics.map((topic) => ({ topic })));
    this.options.log('error', `sink failed: ${this.stats.lastError} (nothing after the last indexed batch is committed; restart the sink once fixed)`);
  }

  private fail(error: unknown): never {
    this.markFailed(error);
    throw new SinkFailed(this.stats.lastError);
  }

  /** Indexes one chunk; returns once every record is indexed, dead-lettered or skipped by configuration. */
  private async write(records: KafkaRecord[], heartbeat: () => Promise<void>): Promise<void> {
    const failures: Failure[] = [];
    const ops = this.operations(records, failures);
    if (ops.length > 0) await this.index(ops, failures, heartbeat);
    if (this.stats.state === 'RETRYING') this.stats.state = 'RUNNING';
    await this.handleFailures(failures);
  }

  /** The bulk operations for a chunk; records that cannot be indexed go to `failures`, skipped ones are counted. */
  private operations(records: KafkaRecord[], failures: Failure[]): Operation[] {
    const { config, projectionIndex } = this.options;
    const ops: Operation[] = [];
    for (const plan of records.map((r) => planRecord(config, r, projectionIndex))) {
      if (plan.kind === 'skip') this.stats.skipped++;
      else if (plan.kind === 'error') failures.push(plan);
      else if (plan.kind === 'delete') ops.push({ op: { op: 'delete', index: plan.index, id: plan.id }, plan, projection: false });
      else {
        ops.push({ op: { op: 'index', index: plan.index, id: plan.id, doc: plan.doc }, plan, projection: false });
        if (plan.projection)
          ops.push({
            op: { op: 'index', index: plan.projection.index, id: plan.projection.id, doc: plan.projection.doc, version: plan.projection.version },
            plan,
            projection: true,
          });
      }
    }
    return ops;
  }

  /** Sends the operations until the engine took every one, with backoff and no deadline: the sink never skips ahead. */
  private async index(ops: Operation[], failures: Failure[], heartbeat: () => Promise<void>): Promise<void> {
    let pending = ops;
    await retry(
      async (attempt) => {
        if (attempt > 1) await heartbeat();
        pending = await this.send(pending, failures);
        if (pending.length > 0) throw new NotTaken();
      },
      {
        deadlineMs: Infinity,
        initialDelayMs: this.options.config.retryBackoffMs,
        factor: 2,
        maxDelayMs: MAX_BACKOFF_MS,
        signal: this.stopper.signal,
        retryable: (error) => error instanceof NotTaken,
        onRetry: (attempt) => {
          this.stats.state = 'RETRYING';
          if ((attempt - 1) % 10 === 0)
            this.options.log(
              'warn',
              `Elasticsearch is not taking ${pending.length} operation(s) (${this.stats.lastError ?? 'HTTP 429/5xx'}); retrying every ≤${Math.round(MAX_BACKOFF_MS / 1000)}s without skipping ahead`,
            );
        },
      },
    );
  }

  /** One bulk request; returns the operations to send again and fails the sink on a refusal. */
  private async send(pending: Operation[], failures: Failure[]): Promise<Operation[]> {
    let items: BulkItem[];
    try {
      items = await this.options.search.bulk(pending.map((p) => p.op));
    } catch (error) {
      if (!isRetryable(error)) this.fail(new Error(`Elasticsearch refused the bulk request: ${reasonOf(error)}`));
      this.stats.lastError = reasonOf(error);
      return pending;
    }
    const again: Operation[] = [];
    items.forEach((item, i) => {
      const p = pending[i]!;
      // An equal or newer version already in the projection: this event is older, nothing to do.
      if (item.ok || (p.projection && item.status === 409)) {
        if (item.ok && !p.projection) {
          if (p.op.op === 'delete') this.stats.deleted++;
          else this.stats.indexed++;
        }
      } else if (p.op.op === 'delete' && item.status === 404) this.stats.deleted++;
      else if (item.status === 429 || item.status >= 500) again.push(p);
      else if (!MALFORMED.has(item.type ?? ''))
        this.fail(
          new Error(
            `${p.op.index}: ${item.type ?? 'error'}: ${item.reason ?? `HTTP ${item.status}`} (record ${p.plan.record.topic}/${p.plan.record.partition}/${p.plan.record.offset})`,
          ),
        );
      else
        failures.push({
          record: p.plan.record,
          stage: 'TASK_PUT',
          className: `org.elasticsearch.${item.type ?? 'ElasticsearchException'}`,
          message: `${p.op.index}: ${item.type ?? 'error'}: ${item.reason ?? `HTTP ${item.status}`}`,
        });
    });
    return again;
  }

  private async handleFailures(failures: Failure[]): Promise<void> {
    if (failures.length === 0) return;
    const { config } = this.options;
    // A record may fail twice (event and projection): report it once.
    const unique = [...new Map(failures.map((f) => [`${f.record.topic}/${f.record.partition}/${f.record.offset}`, f])).values()];
    const malformed = (f: Failure) => f.stage === 'TASK_PUT';
    for (const f of unique) {
      const tolerated = config.errorsTolerance === 'all' || (malformed(f) && config.behaviorOnMalformedDocuments !== 'fail');
      if (!tolerated) this.fail(new Error(`record ${f.record.topic}/${f.record.partition}/${f.record.offset}: ${f.message}`));
    }
    if (config.dlqTopic && this.producer) {
      await this.sendDeadLetters(unique);
      this.stats.deadLettered += unique.length;
      if (config.behaviorOnMalformedDocuments !== 'ignore')
        for (const f of unique)
          this.options.log('warn', `record ${f.record.topic}/${f.record.partition}/${f.record.offset} sent to ${config.dlqTopic}: ${f.message}`);
      return;
    }
    this.stats.rejected += unique.length;
    for (const f of unique)
      this.options.log('warn', `record ${f.record.topic}/${f.record.partition}/${f.record.offset} not indexed (no dead-letter topic configured): ${f.message}`);
  }

  private async sendDeadLetters(unique: Failure[]): Promise<void> {
    const { config } = this.options;
    try {
      await this.producer!.send({
        topic: config.dlqTopic!,
        acks: -1,
        messages: unique.map((f) => ({
          key: f.record.key,
          value: f.record.value,
          headers: { ...f.record.headers, ...(config.dlqContextHeaders ? this.contextHeaders(f) : {}) } as KafkaHeaders,
        })),
      });
    } catch (error) {
      this.fail(new Error(`cannot write to the dead-letter topic ${config.dlqTopic}: ${(error as Error).message}`));
    }
  }

  /** The `__connect.errors.*` headers Connect adds to dead-lettered records. */
  private contextHeaders(f: Failure): Record<string, string> {
    return {
      '__connect.errors.topic': f.record.topic,
      '__connect.errors.partition': String(f.record.partition),
      '__connect.errors.offset': f.record.offset,
      '__connect.errors.connector.name': this.options.config.name,
      '__connect.errors.task.id': '0',
      '__connect.errors.stage': f.stage,
      '__connect.errors.class.name': ES_SINK_CLASS,
      '__connect.errors.exception.class.name': f.className,
      '__connect.errors.exception.message': f.message,
    };
  }
}
