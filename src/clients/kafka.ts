import kafkajs from 'kafkajs';
import { EnvironmentError } from '../lib/errors.js';

const { Kafka, logLevel } = kafkajs;

/** A kafkajs client for the stack's brokers; quiet unless DEBUG asks. */
export function kafkaClient(bootstrap: string, clientId = 'outboxctl'): kafkajs.Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
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

/** Admin operations on topics, with errors that say what is wrong in one sentence. */
export class TopicAdmin {
  private constructor(
    readonly bootstrap: string,
    private readonly admin: kafkajs.Admin,
  ) {}

  static async connect(bootstrap: string): Promise<TopicAdmin> {
    const admin = kafkaClient(bootstrap, 'outboxctl-admin').admin();
    try {
      await admin.connect();
    } catch (error) {
      throw unreachable(bootstrap, error);
    }
    return new TopicAdmin(bootstrap, admin);
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
      .map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, internal: t.name.startsWith('__') }))
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
}

/** A connection failure as one sentence naming the bootstrap servers. */
export function unreachable(bootstrap: string, error: unknown): EnvironmentError {
  const message = (error as Error).message ?? String(error);
  const reason = /ECONNREFUSED/.test(message) ? 'connection refused' : message.replace(/\.$/, '');
  return new EnvironmentError('KAFKA_UNREACHABLE', `Cannot reach Kafka at ${bootstrap}: ${reason}.`, {
    hint: 'Is the stack up (`outboxctl status`)? --bootstrap-server / KAFKA_BOOTSTRAP_SERVERS point elsewhere.',
    cause: error,
  });
}

/** Kafka's own reasons, also those kafkajs keeps inside an aggregate error. */
export function kafkaReason(error: unknown): string {
  const e = error as { message?: string; errors?: { message?: string; type?: string }[] };
  const inner = (e.errors ?? []).map((x) => x.message ?? x.type).filter(Boolean);
  return (inner.length ? inner.join('; ') : (e.message ?? String(error))).replace(/\.$/, '');
}
