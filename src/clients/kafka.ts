import kafkajs from 'kafkajs';
import { type EnvironmentError, UserError } from '../lib/errors.js';
import { unreachableError } from '../lib/network-errors.js';
import { retry } from '../lib/retry.js';
import { registerDecompressionCodecs } from './kafka-codecs.js';

const { Kafka, logLevel } = kafkajs;

// kafkajs' own types, for code outside src/clients/ that drives a consumer or producer it got from here.
export type KafkaClient = kafkajs.Kafka;
export type KafkaConsumer = kafkajs.Consumer;
export type KafkaProducer = kafkajs.Producer;
export type KafkaHeaders = kafkajs.IHeaders;
export type KafkaMessage = kafkajs.KafkaMessage;
export type KafkaBatch = kafkajs.Batch;

export interface KafkaClientOptions {
  /** kafkajs' own warnings and errors (lost connections, crashes, rebalances); without it the client is silent. */
  log?: (level: 'warn' | 'error', message: string) => void;
}

/** A kafkajs client for the stack's brokers; quiet unless DEBUG asks (or `options.log` listens). */
export function kafkaClient(bootstrap: string, clientId = 'outboxctl', options: KafkaClientOptions = {}): KafkaClient {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  registerDecompressionCodecs();
  const { log } = options;
  return new Kafka({
    clientId,
    brokers: bootstrap.split(',').map((b) => b.trim()),
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => {
      const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = entry.log;
      const detail = Object.entries(extra)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      log?.(entry.level === logLevel.ERROR ? 'error' : 'warn', `kafkajs ${entry.namespace}: ${message}${detail ? ` (${detail})` : ''}`);
    },
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
}

/** The ways a LeaveGroup for an earlier member says there is nothing to leave. */
const NO_SUCH_MEMBER = new Set(['UNKNOWN_MEMBER_ID', 'GROUP_ID_NOT_FOUND']);

/**
 * Removes `memberId` from `groupId` with a LeaveGroup request, as a consumer does when it stops:
 * for a member that died without leaving (kafkajs has no static membership, and its admin client no
 * call for this). Resolves true when the coordinator removed it, false when it knew no such member;
 * a coordinator that is loading or unreachable throws (retry it).
 */
export async function leaveGroup(client: KafkaClient, groupId: string, memberId: string): Promise<boolean> {
  // The coordinator lookup and request of kafkajs' own consumer, through the client's private cluster factory.
  const factory = Object.getOwnPropertySymbols(client).find((s) => s.description === 'private:Kafka:createCluster');
  if (!factory) throw new Error('this kafkajs version has no private:Kafka:createCluster; cannot send LeaveGroup');
  const cluster = (client as unknown as Record<symbol, (o: object) => KafkajsCluster>)[factory]!({ allowAutoTopicCreation: false });
  try {
    await cluster.connect();
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    await coordinator.leaveGroup({ groupId, memberId });
    return true;
  } catch (error) {
    if (NO_SUCH_MEMBER.has((error as { type?: string }).type ?? '')) return false;
    throw error;
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** The part of kafkajs' (untyped) cluster that leaveGroup uses. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<{ leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown> }>;
}

/** A metadata request: resolves with the brokers the cluster lists. */
export async function describeBrokers(bootstrap: string): Promise<{ nodeId: number; host: string; port: number }[]> {
  const admin = kafkaClient(bootstrap, 'outboxctl-probe').admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('the cluster lists no broker yet');
    return cluster.brokers;
  } finally {
    await admin.disconnect();
  }
}

export interface TopicSummary {
  name: string;
  partitions: number;
  replicationFactor: number;
  internal: boolean;
}

export interface PartitionDetail {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  low: string;
  high: string;
}

export interface TopicDetail extends TopicSummary {
  partitionDetails: PartitionDetail[];
  configs: Record<string, string>;
}

export interface Watermarks {
  partition: number;
  low: bigint;
  high: bigint;
}

export interface GroupSummary {
  group: string;
  state: string;
  protocolType: string;
  members: number;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** topic → partitions, decoded from the consumer protocol (empty for other protocols). */
  assignment: Record<string, number[]>;
}

export interface GroupDetail {
  group: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMember[];
}

/** Admin operations on topics and groups, with errors that say what is wrong in one sentence. */
export class KafkaAdmin {
  private constructor(
    readonly bootstrap: string,
    private readonly admin: kafkajs.Admin,
  ) {}

  static async connect(bootstrap: string): Promise<KafkaAdmin> {
    const admin = kafkaClient(bootstrap, 'outboxctl-admin').admin();
    try {
      await admin.connect();
    } catch (error) {
      throw unreachable(bootstrap, error);
    }
    return new KafkaAdmin(bootstrap, admin);
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  async exists(name: string): Promise<boolean> {
    return (await this.admin.listTopics()).includes(name);
  }

  async list(): Promise<TopicSummary[]> {
    const { topics } = await this.admin.fetchTopicMetadata();
    return topics
      .map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        internal: t.name.startsWith('__'),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** False when the topic appeared meanwhile (another creator won). */
  async create(name: string, partitions: number, replicationFactor: number, configs: Record<string, string>): Promise<boolean> {
    try {
      return await this.admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: name, numPartitions: partitions, replicationFactor, configEntries: Object.entries(configs).map(([n, value]) => ({ name: n, value })) },
        ],
      });
    } catch (error) {
      // The topic was created: kafkajs's leader wait asked a broker whose metadata lags the controller
      // (KRaft, right after a restart) and gives up on its first UNKNOWN_TOPIC_OR_PARTITION.
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      await this.waitForLeaders(name, 30_000);
      return true;
    }
  }

  /** Until every partition of the topic has a leader, within `deadlineMs`. */
  private async waitForLeaders(name: string, deadlineMs: number): Promise<void> {
    await retry(
      async () => {
        const { topics } = await this.admin.fetchTopicMetadata({ topics: [name] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.length === 0 || partitions.some((p) => p.leader < 0)) throw new Error(`topic ${name} has no leader yet`);
      },
      { deadlineMs, initialDelayMs: 100, factor: 1.5, maxDelayMs: 1_000, retryable: () => true },
    );
  }

  async describe(name: string): Promise<TopicDetail> {
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [name] });
    const topic = topics[0]!;
    const offsets = await this.admin.fetchTopicOffsets(name);
    const configs = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name }] });
    const entries = configs.resources[0]?.configEntries ?? [];
    return {
      name,
      partitions: topic.partitions.length,
      replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
      internal: name.startsWith('__'),
      partitionDetails: topic.partitions
        .map((p) => {
          const o = offsets.find((x) => x.partition === p.partitionId);
          return { partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, low: o?.low ?? '0', high: o?.high ?? '0' };
        })
        .sort((a, b) => a.partition - b.partition),
      configs: Object.fromEntries(entries.filter((e) => !e.isDefault).map((e) => [e.configName, e.configValue])),
    };
  }

  async delete(names: string[]): Promise<void> {
    await this.admin.deleteTopics({ topics: names, timeout: 30_000 });
  }

  /** Throws the one-sentence error every topic command gives for a missing topic. */
  async requireTopic(name: string): Promise<void> {
    if (!(await this.exists(name))) {
      throw new UserError('TOPIC_MISSING', `Topic "${name}" does not exist.`, { hint: 'See `outboxctl topic list`; topics are never created automatically.' });
    }
  }

  /** Low and high watermark of every partition, by partition. */
  async watermarks(topic: string): Promise<Watermarks[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition);
  }

  /** Per partition, the first offset whose timestamp is at or after `ms` (the high watermark when none is). */
  async offsetsForTime(topic: string, ms: number): Promise<Map<number, bigint>> {
    const offsets = await this.admin.fetchTopicOffsetsByTimestamp(topic, ms);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
  }

  async listGroups(): Promise<GroupSummary[]> {
    const { groups } = await this.admin.listGroups();
    if (groups.length === 0) return [];
    const described = await this.admin.describeGroups(groups.map((g) => g.groupId));
    return described.groups
      .map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType, members: g.members.length }))
      .sort((a, b) => a.group.localeCompare(b.group));
  }

  async describeGroup(group: string): Promise<GroupDetail> {
    const { groups } = await this.admin.describeGroups([group]);
    const g = groups[0]!;
    return {
      group,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: decodeAssignment(m.memberAssignment) })),
    };
  }

  /** Committed offsets of a group (all its topics, or one); -1 where nothing is committed. */
  async committedOffsets(group: string, topic?: string): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    const result = await this.admin.fetchOffsets({ groupId: group, topics: topic ? [topic] : [] });
    return result.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) })));
  }

  /** Commits offsets for a group without members (Kafka refuses while members are active). */
  async setOffsets(group: string, topic: string, offsets: { partition: number; offset: bigint }[]): Promise<void> {
    await this.admin.setOffsets({ groupId: group, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset.toString() })) });
  }
}

function decodeAssignment(bytes: Buffer): Record<string, number[]> {
  try {
    return kafkajs.AssignerProtocol.MemberAssignment.decode(bytes)?.assignment ?? {};
  } catch {
    return {};
  }
}

/** A connection failure as one sentence naming the bootstrap servers. */
export function unreachable(bootstrap: string, error: unknown): EnvironmentError {
  return unreachableError(
    'KAFKA_UNREACHABLE',
    'Kafka',
    bootstrap,
    error,
    'Is the stack up (`outboxctl status`)? --bootstrap-server / KAFKA_BOOTSTRAP_SERVERS point elsewhere.',
  );
}

/** Kafka's own reasons, also those kafkajs keeps inside an aggregate error. */
export function kafkaReason(error: unknown): string {
  const e = error as { message?: string; errors?: { message?: string; type?: string }[] };
  const inner = (e.errors ?? []).map((x) => x.message ?? x.type).filter(Boolean);
  return (inner.length ? inner.join('; ') : (e.message ?? String(error))).replace(/\.$/, '');
}
