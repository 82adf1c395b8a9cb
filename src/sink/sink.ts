import {
  KafkaAdmin,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaHeaders,
  type KafkaProducer,
  kafkaClient,
  kafkaConnectionError,
} from '../clients/kafka.js';
import { type KafkaRecord, toKafkaRecord } from '../clients/kafka-reader.js';
import { type BulkItem, type BulkOperation, isTransient, reasonOf, type SearchClient } from '../clients/search.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { CliError, EnvironmentError, UserError } from '../lib/errors.js';
import { retry } from '../lib/retry.js';
import { type KafkaTarget, kafkaTarget } from '../lib/targets.js';
import { ES_SINK_CLASS, type SinkConfig } from './config.js';
import { type ErrorStage, type Planned, planRecord } from './documents.js';
import { LagProbe, type SinkLag } from './lag.js';
import {
  type ConsumerActivity,
  type CrashStreak,
  crashRestartDelayMs,
  nextCrashStreak,
  reportedState,
  type SinkState,
  shouldGiveUpAfterCrash,
  shouldRestartConsumer,
} from './liveness.js';
import { leaveForDeadMember, readMemberId, writeMemberId } from './membership.js';

export type { SinkState } from './liveness.js';

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
  /** Records behind the topics' end (committed offsets against the ends), at the last reading. */
  lag?: SinkLag;
  /** When the consumer last completed a fetch (ISO-8601), with records or at the end of its partitions. */
  lastConsumedAt?: string;
  /** Kafka answered the last lag reading: a STALLED sink with Kafka down waits for it (HTTP 200), else it is at fault (503). */
  kafkaReachable: boolean;
  /** Consumers the watchdog replaced because they made no progress while records waited. */
  consumerRestarts: number;
  lastError?: string;
}

export interface SinkOptions {
  config: SinkConfig;
  /** The brokers, with TLS and SASL when a context gives them. */
  bootstrap: string | KafkaTarget;
  search: SearchClient;
  /** Index of the current-state projection (one document per parcel), or none. */
  projectionIndex?: string;
  /** Where the group member id is kept, so that a restarted sink can leave for a killed one. */
  memberFile?: string;
  clock?: Clock;
  /** How long start() waits for the first assignment (default 60 s). */
  joinDeadlineMs?: number;
  /** 'debug' lines are kafkajs' own (lost connections, retries): for DEBUG=outboxctl:*, not for the log. */
  log(level: 'info' | 'warn' | 'error' | 'debug', message: string): void;
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

// Kafka's group.min.session.timeout.ms is 6 s: a member that dies without leaving blocks the next
// rebalance at most this long (a restarted sink leaves for it at once: see membership.ts).
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 2_000;
/** How often the lag is read and the consumer's progress checked. */
const TICK_MS = 1_000;
/** kafkajs' disconnect waits for a fetch in flight: a broker that is stopped answers none. */
const DISCONNECT_TIMEOUT_MS = 5_000;
/** A dead member's session is over by then on a coordinator that is up (it restarts on a coordinator's load). */
const LEAVE_DEADLINE_MS = 120_000;
/** start() gives up when the consumer has not joined its group by then. */
const JOIN_DEADLINE_MS = 60_000;

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

/**
 * A consumer error a new consumer would meet again (denied by the cluster's ACLs, refused
 * credentials): the sink fails, like Connect's task. Anything else kafkajs gives up on (a membership
 * that ended, a coordinator that moved) is met by a new consumer that rejoins.
 */
export function isFatalKafkaError(error: unknown): boolean {
  let e = error as { name?: string; type?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (/AUTHORIZATION_FAILED|SASL_AUTHENTICATION_FAILED|UNSUPPORTED_SASL_MECHANISM|ILLEGAL_SASL_STATE/.test(e.type ?? '')) return true;
    if (e.name === 'KafkaJSSASLAuthenticationError') return true;
  }
  return false;
}

class SinkFailed extends Error {}

/** The consumer crashed with one error too often in a row without joining in between. */
class ConsumerGaveUp extends Error {}

/** What kind of error crashed a consumer: the first Kafka error type in its chain, else its name. */
function crashType(error: unknown): string {
  let e = error as { name?: string; type?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) if (e.type) return e.type;
  return (error as { name?: string } | undefined)?.name ?? 'Error';
}

/** The broker denied an operation (ACLs): one of the fatal errors that are not about the connection. */
function authorizationType(error: unknown): string | undefined {
  let e = error as { type?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) if (/AUTHORIZATION_FAILED/.test(e.type ?? '')) return e.type;
  return undefined;
}

/** Some operations of a bulk request were not taken (429/5xx items, or the request failed): send them again. */
class NotTaken extends Error {}

/**
 * The embedded Elasticsearch sink: Connect's consumer group and the semantics of Confluent's
 * connector (see config.ts), with the offsets of a batch committed only once every record of it
 * is indexed, dead-lettered or deliberately skipped. Transient engine errors are retried with
 * backoff for as long as it takes; the sink never skips ahead.
 */
export class EmbeddedSink {
  private readonly counters: Omit<SinkStats, 'state' | 'lag' | 'lastConsumedAt' | 'kafkaReachable'> & { state: ConsumerActivity['state'] };
  private readonly clock: Clock;
  private kafka?: KafkaClient;
  private consumer?: KafkaConsumer;
  private producer?: KafkaProducer;
  private lag?: LagProbe;
  private ticker?: NodeJS.Timeout;
  private memberId?: string;
  private joining = true;
  private writing = false;
  private restarting = false;
  /** Until the first assignment: settles start()'s wait (rejected when the sink fails before it). */
  private firstJoin?: { resolve(): void; reject(error: unknown): void };
  /** Consecutive crashes kafkajs did not restart, since the last join. */
  private crashStreak?: CrashStreak;
  private crashTimer?: NodeJS.Timeout;
  private lastFetchAt?: number;
  private lastProgressAt: number;
  private reported: SinkState = 'STARTING';
  // Aborting ends a retry pause at once, so that a stop never waits out a backoff.
  private readonly stopper = new AbortController();

  constructor(private readonly options: SinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.lastProgressAt = this.clock.now();
    this.counters = {
      state: 'STARTING',
      group: options.config.groupId,
      topics: options.config.topics,
      indexed: 0,
      deleted: 0,
      skipped: 0,
      deadLettered: 0,
      rejected: 0,
      consumerRestarts: 0,
    };
  }

  /** The counters, the state as `/health` reports it, the lag at the last reading. */
  get stats(): SinkStats {
    const activity = this.activity();
    return {
      ...this.counters,
      state: reportedState(activity, this.clock.now()),
      kafkaReachable: activity.kafkaReachable,
      lag: this.lag?.latest,
      lastConsumedAt: this.lastFetchAt === undefined ? undefined : new Date(this.lastFetchAt).toISOString(),
    };
  }

  /**
   * Joins the group and starts consuming; resolves once the first assignment arrived. Rejects with
   * one sentence (a CliError) when Kafka refuses the connection, the sink fails before it joined,
   * or it has not joined within the deadline; the sink is stopped then.
   */
  async start(): Promise<void> {
    const { config, bootstrap } = this.options;
    const kafka = kafkaClient(bootstrap, `outboxctl-sink-${config.name}`, { log: (_level, message) => this.options.log('debug', message) });
    this.kafka = kafka;
    const joined = new Promise<void>((resolve, reject) => {
      this.firstJoin = { resolve, reject };
    });
    // Settled before start() waits for it (a crash during the connects): not an unhandled rejection.
    joined.catch(() => undefined);
    let deadline: NodeJS.Timeout | undefined;
    try {
      if (config.dlqTopic) await this.connectDeadLetters(kafka);
      // A killed predecessor is still a member until its session ends: leave for it while this one joins.
      const previous = this.options.memberFile ? await readMemberId(this.options.memberFile).catch(() => undefined) : undefined;
      if (previous) this.leaveFor(previous, 'the previous sink process');
      this.lag = new LagProbe(() => KafkaAdmin.connect(bootstrap), config.groupId, config.topics, this.clock);
      this.ticker = setInterval(() => this.tick(), TICK_MS);
      this.ticker.unref();
      await this.startConsumer();
      const deadlineMs = this.options.joinDeadlineMs ?? JOIN_DEADLINE_MS;
      const timedOut = new Promise<never>((_resolve, reject) => {
        deadline = setTimeout(
          () =>
            reject(
              new EnvironmentError(
                'SINK_JOIN_TIMEOUT',
                `Kafka at ${kafkaTarget(bootstrap).brokers} did not let the sink join group ${config.groupId} within ${Math.round(deadlineMs / 1000)}s.`,
                {
                  hint: `Is the group coordinator up, or another member of ${config.groupId} holding up the rebalance? \`outboxctl group describe ${config.groupId}\` shows its members.`,
                },
              ),
            ),
          deadlineMs,
        );
      });
      await Promise.race([joined, timedOut]);
    } catch (error) {
      this.firstJoin = undefined;
      const failure = await this.startError(error);
      this.counters.state = 'FAILED';
      this.counters.lastError = failure.message;
      await this.stop();
      throw failure;
    } finally {
      clearTimeout(deadline);
    }
    if (this.counters.state === 'STARTING') this.counters.state = 'RUNNING';
    this.options.log('info', `sink ${config.name} consuming ${config.topics.join(', ')} as group ${config.groupId} into ${this.options.search.url}`);
  }

  /** Checks that the dead-letter topic exists and connects its producer; Kafka refusing the connection is one sentence. */
  private async connectDeadLetters(kafka: KafkaClient): Promise<void> {
    const { config, bootstrap } = this.options;
    const admin = kafka.admin();
    let topics: string[];
    try {
      await admin.connect();
      topics = await admin.listTopics();
    } catch (error) {
      throw await kafkaConnectionError(bootstrap, error);
    } finally {
      await bounded(admin.disconnect());
    }
    if (!topics.includes(config.dlqTopic!)) {
      throw new UserError(
        'SINK_DLQ_MISSING',
        `The dead-letter topic "${config.dlqTopic}" of connector "${config.name}" does not exist; the sink did not start.`,
        { hint: `Create it: \`outboxctl topic create ${config.dlqTopic}\`.` },
      );
    }
    this.producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    try {
      await this.producer.connect();
    } catch (error) {
      throw await kafkaConnectionError(bootstrap, error);
    }
  }

  /** Why start() failed, as one sentence. */
  private async startError(error: unknown): Promise<CliError> {
    if (error instanceof CliError) return error;
    const { config, bootstrap } = this.options;
    const at = `Kafka at ${kafkaTarget(bootstrap).brokers}`;
    const denied = authorizationType(error);
    if (denied)
      return new UserError('SINK_DENIED', `${at} denied the sink of connector "${config.name}" (group ${config.groupId}): ${denied}.`, {
        hint: `Grant the user Read on group ${config.groupId} and on ${config.topics.join(', ')}${config.dlqTopic ? `, and Write on ${config.dlqTopic}` : ''}.`,
        cause: error,
      });
    if (error instanceof ConsumerGaveUp)
      return new EnvironmentError('SINK_CONSUMER_FAILED', `${at}: ${error.message.replace(/\.$/, '')}.`, {
        hint: "Run it again with DEBUG=outboxctl:* for kafkajs' own lines.",
        cause: error,
      });
    return kafkaConnectionError(bootstrap, error);
  }

  private get stopping(): boolean {
    return this.stopper.signal.aborted;
  }

  async stop(): Promise<void> {
    this.stopper.abort(new SinkFailed('stopping'));
    clearInterval(this.ticker);
    clearTimeout(this.crashTimer);
    await bounded(this.consumer?.disconnect());
    await bounded(this.producer?.disconnect());
    await this.lag?.close();
    if (this.counters.state !== 'FAILED') this.counters.state = 'STOPPED';
  }

  private activity(): ConsumerActivity {
    return {
      state: this.counters.state,
      lastProgressAt: this.lastProgressAt,
      writing: this.writing,
      joining: this.joining,
      kafkaReachable: this.lag?.reachable() ?? false,
      lag: this.lag?.latest?.total,
    };
  }

  /** Once a second: read the lag, say when the reported state changes, replace a consumer that is stuck. */
  private tick(): void {
    if (this.stopping) return;
    this.lag?.poll();
    const now = this.clock.now();
    const activity = this.activity();
    const state = reportedState(activity, now);
    if (state !== this.reported) {
      const idleS = ((now - this.lastProgressAt) / 1000).toFixed(1);
      const lag = activity.lag === undefined ? 'unknown' : String(activity.lag);
      if (state === 'STALLED' || state === 'REBALANCING')
        this.options.log('warn', `sink ${state}: no fetch completed for ${idleS}s (lag ${lag}${activity.kafkaReachable ? '' : '; Kafka does not answer'})`);
      else if (state === 'RUNNING' && (this.reported === 'STALLED' || this.reported === 'REBALANCING'))
        this.options.log('info', `sink RUNNING again (lag ${lag})`);
      this.reported = state;
    }
    if (!this.restarting && shouldRestartConsumer(activity, now))
      void this.restartConsumer(`made no progress for ${((now - this.lastProgressAt) / 1000).toFixed(1)}s with ${this.lag?.latest?.total} record(s) waiting`);
  }

  /** Creates, subscribes and runs a consumer; its first assignment settles start()'s wait. */
  private async startConsumer(): Promise<void> {
    const { config } = this.options;
    const consumer = this.kafka!.consumer({
      groupId: config.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.max(config.lingerMs, 100),
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    });
    this.consumer = consumer;
    this.joining = true;
    this.lastProgressAt = this.clock.now();
    // Events of a consumer the watchdog replaced are of no concern any more.
    const current = () => this.consumer === consumer && !this.stopping;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (!current()) return;
      this.joining = false;
      this.lastProgressAt = this.clock.now();
      this.crashStreak = undefined;
      this.rememberMember(e.payload.memberId);
      this.firstJoin?.resolve();
      this.firstJoin = undefined;
    });
    consumer.on(consumer.events.FETCH, () => {
      if (!current()) return;
      this.lastFetchAt = this.clock.now();
      this.lastProgressAt = this.lastFetchAt;
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (current()) this.joining = true;
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!current()) return;
      if (isFatalKafkaError(e.payload.error)) return this.markFailed(e.payload.error);
      // kafkajs gives up on a consumer whose membership ended (a session lost during a long
      // outage of the engine, say): like Connect's task after a failed commit, a new one rejoins.
      if (!e.payload.restart) return this.consumerStopped(e.payload.error);
      // kafkajs restarts as a new member; the old one could not leave if its broker is gone.
      this.joining = true;
      this.options.log('warn', `sink consumer crashed (${e.payload.error.message}); kafkajs restarts it`);
      if (this.memberId) this.leaveFor(this.memberId, 'the crashed consumer');
      this.memberId = undefined;
    });
    try {
      await consumer.connect();
    } catch (error) {
      throw await kafkaConnectionError(this.options.bootstrap, error);
    }
    // Connect's sink consumers start at the earliest offset when the group has none.
    for (const topic of config.topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (let at = 0; at < batch.messages.length; at += config.batchSize) {
          if (!isRunning() || isStale() || !current() || this.counters.state === 'FAILED') return;
          const chunk = batch.messages.slice(at, at + config.batchSize).map((m) => toKafkaRecord(batch.topic, batch.partition, m));
          this.writing = true;
          try {
            await this.write(chunk, heartbeat);
          } catch (error) {
            if (error instanceof SinkFailed) return;
            throw error;
          } finally {
            this.writing = false;
            this.lastProgressAt = this.clock.now();
          }
          const last = chunk[chunk.length - 1]!.offset;
          resolveOffset(last);
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
          await heartbeat();
        }
      },
    });
  }

  /**
   * A consumer kafkajs stopped for good: restarted after a backoff (1 s doubling to 30 s, from
   * scratch after a join), and the sink fails once one error type did it CRASH_GIVE_UP_AFTER times
   * in a row without a join: a persistent error must not loop forever.
   */
  private consumerStopped(error: unknown): void {
    if (this.stopping || this.counters.state === 'FAILED') return;
    if (isFatalKafkaError(error)) {
      this.markFailed(error);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const streak = nextCrashStreak(this.crashStreak, crashType(error));
    this.crashStreak = streak;
    if (shouldGiveUpAfterCrash(streak)) {
      this.markFailed(
        new ConsumerGaveUp(`the sink's consumer (group ${this.options.config.groupId}) stopped ${streak.count} times in a row without joining (${message})`),
      );
      return;
    }
    const delayMs = crashRestartDelayMs(streak.count);
    // The watchdog must not restart it meanwhile.
    this.restarting = true;
    clearTimeout(this.crashTimer);
    this.options.log('warn', `sink consumer stopped (${message}); restarting it in ${delayMs / 1000}s (${streak.count} in a row)`);
    this.crashTimer = setTimeout(() => {
      this.crashTimer = undefined;
      this.restarting = false;
      if (!this.stopping && this.counters.state !== 'FAILED') void this.restartConsumer(`stopped (${message})`);
    }, delayMs);
  }

  /** The watchdog: a consumer without progress while Kafka answers and records wait is replaced by a new one. */
  private async restartConsumer(why: string): Promise<void> {
    this.restarting = true;
    const old = this.consumer;
    const oldMember = this.memberId;
    this.counters.consumerRestarts++;
    this.options.log('warn', `sink consumer ${why}; restarting it`);
    this.consumer = undefined;
    this.memberId = undefined;
    let failure: unknown;
    try {
      await bounded(old?.disconnect());
      if (oldMember) this.leaveFor(oldMember, 'the replaced consumer');
      if (!this.stopping) await this.startConsumer();
    } catch (error) {
      failure = error ?? new Error('consumer restart failed');
    } finally {
      // A crash of the new consumer meanwhile scheduled its own restart: the watchdog still waits for it.
      this.restarting = this.crashTimer !== undefined;
    }
    if (failure === undefined) return;
    this.options.log('warn', `sink consumer restart failed (${(failure as Error).message})`);
    this.lastProgressAt = this.clock.now();
    // A consumer that could not start is a stopped one: the same backoff, the same limit.
    const started = this.consumer as KafkaConsumer | undefined;
    this.consumer = undefined;
    void bounded(started?.disconnect());
    this.consumerStopped(failure);
  }

  private rememberMember(memberId: string): void {
    this.memberId = memberId;
    const file = this.options.memberFile;
    if (!file) return;
    writeMemberId(file, memberId).catch((error) => this.options.log('warn', `cannot record the sink's member id in ${file}: ${(error as Error).message}`));
  }

  /** In the background: LeaveGroup for a member that died without leaving, until the coordinator answers. */
  private leaveFor(memberId: string, what: string): void {
    const { groupId } = this.options.config;
    leaveForDeadMember(this.kafka!, groupId, memberId, { deadlineMs: LEAVE_DEADLINE_MS, signal: this.stopper.signal })
      .then((left) => {
        if (left) this.options.log('info', `left group ${groupId} for ${what} (member ${memberId})`);
      })
      .catch((error) => {
        if (!this.stopping) this.options.log('debug', `cannot leave group ${groupId} for member ${memberId}: ${(error as Error).message}`);
      });
  }

  /** Like a failed Connect task: stops consuming, keeps the error for `status`, commits nothing more. */
  private markFailed(error: unknown): void {
    this.counters.state = 'FAILED';
    this.counters.lastError = error instanceof Error ? error.message : String(error);
    clearTimeout(this.crashTimer);
    try {
      this.consumer?.pause(this.options.config.topics.map((topic) => ({ topic })));
    } catch {
      // A consumer kafkajs stopped after a crash has nothing to pause (and throws: it must not end the process).
    }
    const waiting = this.firstJoin;
    if (waiting) {
      // Before the first join start() is still waiting: it reports the failure, as one sentence.
      this.firstJoin = undefined;
      waiting.reject(error);
      return;
    }
    this.options.log('error', `sink failed: ${this.counters.lastError} (nothing after the last indexed batch is committed; restart the sink once fixed)`);
  }

  private fail(error: unknown): never {
    this.markFailed(error);
    throw new SinkFailed(this.counters.lastError);
  }

  /** Indexes one chunk; returns once every record is indexed, dead-lettered or skipped by configuration. */
  private async write(records: KafkaRecord[], heartbeat: () => Promise<void>): Promise<void> {
    const failures: Failure[] = [];
    const ops = this.operations(records, failures);
    if (ops.length > 0) await this.index(ops, failures, heartbeat);
    if (this.counters.state === 'RETRYING') this.counters.state = 'RUNNING';
    await this.handleFailures(failures);
  }

  /** The bulk operations for a chunk; records that cannot be indexed go to `failures`, skipped ones are counted. */
  private operations(records: KafkaRecord[], failures: Failure[]): Operation[] {
    const { config, projectionIndex } = this.options;
    const ops: Operation[] = [];
    for (const plan of records.map((r) => planRecord(config, r, projectionIndex))) {
      if (plan.kind === 'skip') this.counters.skipped++;
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
    // The group must not lose this member while the engine is away: one bulk attempt alone may take
    // the search client's whole deadline (15 s), longer than the session (10 s).
    const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_INTERVAL_MS);
    try {
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
            this.counters.state = 'RETRYING';
            if ((attempt - 1) % 10 === 0)
              this.options.log(
                'warn',
                `Elasticsearch is not taking ${pending.length} operation(s) (${this.counters.lastError ?? 'HTTP 429/5xx'}); retrying every ≤${Math.round(MAX_BACKOFF_MS / 1000)}s without skipping ahead`,
              );
          },
        },
      );
    } finally {
      clearInterval(beat);
    }
  }

  /** One bulk request; returns the operations to send again and fails the sink on a refusal. */
  private async send(pending: Operation[], failures: Failure[]): Promise<Operation[]> {
    let items: BulkItem[];
    try {
      items = await this.options.search.bulk(pending.map((p) => p.op));
    } catch (error) {
      if (!isRetryable(error)) this.fail(new Error(`Elasticsearch refused the bulk request: ${reasonOf(error)}`));
      this.counters.lastError = reasonOf(error);
      return pending;
    }
    const again: Operation[] = [];
    items.forEach((item, i) => {
      const p = pending[i]!;
      // An equal or newer version already in the projection: this event is older, nothing to do.
      if (item.ok || (p.projection && item.status === 409)) {
        if (item.ok && !p.projection) {
          if (p.op.op === 'delete') this.counters.deleted++;
          else this.counters.indexed++;
        }
      } else if (p.op.op === 'delete' && item.status === 404) this.counters.deleted++;
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
      this.counters.deadLettered += unique.length;
      if (config.behaviorOnMalformedDocuments !== 'ignore')
        for (const f of unique)
          this.options.log('warn', `record ${f.record.topic}/${f.record.partition}/${f.record.offset} sent to ${config.dlqTopic}: ${f.message}`);
      return;
    }
    this.counters.rejected += unique.length;
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

/** Waits for `promise`, at most `ms`; its failure is of no concern (a shutdown step). */
async function bounded(promise: Promise<unknown> | undefined, ms = DISCONNECT_TIMEOUT_MS): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
