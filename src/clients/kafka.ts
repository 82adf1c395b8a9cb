import kafkajs from 'kafkajs';
import { type EnvironmentError, UserError } from '../lib/errors.js';
import { unreachableError } from '../lib/network-errors.js';
import { registerDecompressionCodecs } from './kafka-codecs.js';

const { Kafka, logLevel } = kafkajs;

// kafkajs' own types, for code outside src/clients/ that drives a consumer or producer it got from here.
export type KafkaClient = kafkajs.Kafka;
export type KafkaConsumer = kafkajs.Consumer;
export type KafkaProducer = kafkajs.Producer;
export type KafkaHeaders = kafkajs.IHeaders;
export type KafkaMessage = kafkajs.KafkaMessage;
export type KafkaBatch = kafkajs.Batch;

/** A kafkajs client for the stack's brokers; quiet unless DEBUG asks. */
export function kafkaClient(bootstrap: string, clientId = 'outboxctl'): KafkaClient {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  registerDecompressionCodecs();
  return new Kafka({
    clientId,
    brokers: bootstrap.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
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
    return this.admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: name, numPartitions: partitions, replicationFactor, configEntries: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    });
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
