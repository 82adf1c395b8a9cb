import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import type kafkajs from 'kafkajs';
import type { CliError, EnvironmentError } from '../lib/errors.js';
import { UserError } from '../lib/errors.js';
import { unreachableError } from '../lib/network-errors.js';
import { retry } from '../lib/retry.js';
import { type KafkaTarget, kafkaSecurityLabel, kafkaTarget, type SaslOptions, type TlsOptions } from '../lib/targets.js';
import { registerDecompressionCodecs } from './kafka-codecs.js';
import { decodeMetadataResponse, encodeMetadataRequest, METADATA_API_KEY, METADATA_VERSION, type Metadata } from './kafka-metadata.js';

const requireModule = createRequire(import.meta.url);
let loaded: typeof kafkajs | undefined;

/**
 * kafkajs, loaded when a client is made: its few hundred modules cost more than `topic list` and
 * the readiness probe take in all, and both go without it when one Metadata request answers them.
 */
function loadKafkajs(): typeof kafkajs {
  loaded ??= requireModule('kafkajs') as typeof kafkajs;
  return loaded;
}

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

/** A kafkajs client for the brokers of `target` (TLS and SASL from it); quiet unless `options.log` listens. */
export function kafkaClient(target: string | KafkaTarget, clientId = 'outboxctl', options: KafkaClientOptions = {}): KafkaClient {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const { Kafka, logLevel } = loadKafkajs();
  registerDecompressionCodecs();
  const { log } = options;
  const t = kafkaTarget(target);
  return new Kafka({
    clientId,
    brokers: t.brokers.split(',').map((b) => b.trim()),
    ssl: t.tls ? kafkaTls(t.tls) : undefined,
    sasl: t.sasl ? kafkaSasl(t.sasl) : undefined,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => {
      const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = entry.log;
      const detail = Object.entries(extra)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      log?.(entry.level === logLevel.ERROR ? 'error' : 'warn', `kafkajs ${entry.namespace}: ${message}${detail ? ` (${detail})` : ''}`);
    },
    connectionTimeout: 3_000,
    authenticationTimeout: 5_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
}

/** Node's TLS options from a target's: the PEM files read, the chain always checked, the host name unless told not to. */
export function kafkaTls(options: TlsOptions): tls.ConnectionOptions {
  return {
    rejectUnauthorized: true,
    ...(options.caFile ? { ca: readPem(options.caFile, 'CA file') } : {}),
    ...(options.certFile ? { cert: readPem(options.certFile, 'client certificate') } : {}),
    ...(options.keyFile ? { key: readPem(options.keyFile, 'client key') } : {}),
    // Without host name verification the chain is still checked (rejectUnauthorized), only not the name.
    checkServerIdentity: options.verifyHostname === false ? () => undefined : tls.checkServerIdentity,
  };
}

function kafkaSasl(options: SaslOptions): kafkajs.SASLOptions {
  const { username, password } = options;
  return options.mechanism === 'plain' ? { mechanism: 'plain', username, password } : { mechanism: options.mechanism, username, password };
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UserError('KAFKA_TLS_FILE', `Cannot read the Kafka TLS ${what} ${file}: ${reason}.`, {
      hint: 'Check the path in the context (`outboxctl context show`) or the --kafka-ca / --kafka-cert / --kafka-key flags.',
      cause: error,
    });
  }
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

/**
 * One Metadata request outside kafkajs, to the first bootstrap broker (plain text or TLS, checked as
 * kafkajs checks it): undefined when the target uses SASL or no answer came that decodes, and the
 * caller then asks through kafkajs, whose errors are the ones users see.
 */
async function quickMetadata(target: KafkaTarget, topics: string[] | undefined): Promise<Metadata | undefined> {
  if (target.sasl) return undefined;
  const first = firstBroker(target.brokers);
  if (!first) return undefined;
  let tlsOptions: tls.ConnectionOptions | undefined;
  try {
    tlsOptions = target.tls ? kafkaTls(target.tls) : undefined;
  } catch {
    return undefined;
  }
  const body = await rawKafkaRequest(first, tlsOptions, METADATA_API_KEY, METADATA_VERSION, encodeMetadataRequest(topics));
  if (!body) return undefined;
  try {
    return decodeMetadataResponse(body);
  } catch {
    return undefined;
  }
}

/** Every topic with its partition and replica count, sorted by name (`topic list`). */
function topicSummaries(topics: { name: string; partitions: { replicas: number[] }[] }[]): TopicSummary[] {
  return topics
    .map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      internal: t.name.startsWith('__'),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every topic of the cluster (internal ones included): one Metadata request when it answers cleanly,
 * else through an admin client (`KafkaAdmin.list`), with its errors.
 */
export async function listTopics(target: string | KafkaTarget): Promise<TopicSummary[]> {
  const t = kafkaTarget(target);
  const metadata = await quickMetadata(t, undefined);
  if (metadata && metadata.brokers.length > 0 && metadata.topics.every((topic) => topic.errorCode === 0)) return topicSummaries(metadata.topics);
  const admin = await KafkaAdmin.connect(t);
  try {
    return await admin.list();
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** A metadata request: resolves with the brokers the cluster lists. */
export async function describeBrokers(target: string | KafkaTarget): Promise<{ nodeId: number; host: string; port: number }[]> {
  const quick = await quickMetadata(kafkaTarget(target), []);
  if (quick && quick.brokers.length > 0) return quick.brokers;
  const admin = kafkaClient(target, 'outboxctl-probe').admin();
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
  /** The bootstrap servers (host:port[,…]), for messages. */
  readonly bootstrap: string;

  private constructor(
    readonly target: KafkaTarget,
    private readonly admin: kafkajs.Admin,
  ) {
    this.bootstrap = target.brokers;
  }

  static async connect(target: string | KafkaTarget): Promise<KafkaAdmin> {
    const t = kafkaTarget(target);
    const admin = kafkaClient(t, 'outboxctl-admin').admin();
    try {
      await admin.connect();
      // A listener that wants SASL still answers ApiVersions, which is all connect() sends without SASL: ask for metadata too.
      await admin.describeCluster();
    } catch (error) {
      await admin.disconnect().catch(() => undefined);
      throw await kafkaConnectionError(t, error);
    }
    return new KafkaAdmin(t, admin);
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  async exists(name: string): Promise<boolean> {
    return (await this.admin.listTopics()).includes(name);
  }

  async list(): Promise<TopicSummary[]> {
    const { topics } = await this.admin.fetchTopicMetadata();
    return topicSummaries(topics);
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
    const configs = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: loadKafkajs().ConfigResourceTypes.TOPIC, name }] });
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
    return loadKafkajs().AssignerProtocol.MemberAssignment.decode(bytes)?.assignment ?? {};
  } catch {
    return {};
  }
}

/** A connection failure as one sentence naming the bootstrap servers. */
export function unreachable(target: string | KafkaTarget, error: unknown): EnvironmentError {
  return unreachableError(
    'KAFKA_UNREACHABLE',
    'Kafka',
    kafkaTarget(target).brokers,
    error,
    'Is the stack up (`outboxctl status`)? --bootstrap-server / KAFKA_BOOTSTRAP_SERVERS point elsewhere.',
  );
}

/** The errors kafkajs nests: the error, its cause (a retrier's last error), an aggregate's members. */
function errorChain(error: unknown, depth = 0): { name?: string; type?: string; code?: string; message?: string }[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const e = error as { cause?: unknown; originalError?: unknown; errors?: unknown };
  const inner = [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return [error as { name?: string }, ...inner.flatMap((x) => errorChain(x, depth + 1))];
}

/** Node's codes for a certificate chain it cannot verify (unknown or self-signed authority, expired, …). */
const CERT_CHAIN_CODES =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_(HAS_EXPIRED|NOT_YET_VALID|UNTRUSTED|REJECTED|SIGNATURE_FAILURE)|ERR_SSL_.*)$/;

/**
 * A failed connection as one sentence naming Kafka, the bootstrap servers and how the target
 * authenticates (`kafkaSecurityLabel`), with the fix as the hint: bad credentials, an unknown
 * certificate authority, a host name the certificate lacks, a mechanism the broker does not
 * offer, plain text to a TLS listener and TLS to a plaintext one. Ambiguous symptoms (a closed
 * connection, a reset handshake) are checked with one short probe of the first broker; anything
 * else is `unreachable`.
 */
export async function kafkaConnectionError(target: string | KafkaTarget, error: unknown): Promise<CliError> {
  const t = kafkaTarget(target);
  const at = `Kafka at ${t.brokers}`;
  const method = kafkaSecurityLabel(t);
  const chain = errorChain(error);
  const has = (test: (e: (typeof chain)[number]) => boolean) => chain.find(test);
  const first = firstBroker(t.brokers);

  if (has((e) => e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED')) {
    const mechanism = t.sasl?.mechanism.toUpperCase() ?? 'SASL';
    return new UserError('KAFKA_AUTH_FAILED', `${at} rejected the credentials of ${method}: authentication failed.`, {
      hint: `Check the username and the password (--kafka-username, --kafka-password env:VAR | file:PATH); the user needs ${mechanism} credentials on the cluster.`,
      cause: error,
    });
  }
  if (has((e) => e.type === 'UNSUPPORTED_SASL_MECHANISM' || /mechanism is not supported/.test(e.message ?? ''))) {
    const offered = first ? await saslMechanisms(first, t.tls ? kafkaTls({ ...t.tls, verifyHostname: false }) : undefined) : undefined;
    const ours = offered?.map((m) => m.toLowerCase()).filter((m) => (['plain', 'scram-sha-256', 'scram-sha-512'] as string[]).includes(m));
    return new UserError(
      'KAFKA_SASL_MECHANISM',
      `${at} does not offer the SASL mechanism of ${method}${offered?.length ? `; it offers ${offered.join(', ')}` : ''}.`,
      {
        hint: ours?.length
          ? `Use --kafka-sasl-mechanism ${ours[0]}.`
          : 'Use a mechanism the listener enables (sasl.enabled.mechanisms): --kafka-sasl-mechanism plain | scram-sha-256 | scram-sha-512.',
        cause: error,
      },
    );
  }
  const altname = has((e) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  if (altname) {
    return new UserError(
      'KAFKA_TLS_HOSTNAME',
      `${at} presented a certificate for other names than the one ${method} connected to: ${tlsDetail(altname.message)}.`,
      {
        hint: 'Connect by a name the certificate carries (--bootstrap-server), or create the context with --kafka-no-verify-hostname to check the chain only.',
        cause: error,
      },
    );
  }
  const chainError = has((e) => CERT_CHAIN_CODES.test(e.code ?? ''));
  if (chainError) {
    const detail = tlsDetail(chainError.message);
    return new UserError('KAFKA_TLS_UNTRUSTED', `${at} presented a certificate that ${method} cannot verify: ${detail}.`, {
      hint: t.tls?.caFile
        ? `The CA in ${t.tls.caFile} did not sign the brokers' certificates: give the one that did with --kafka-ca FILE (PEM).`
        : "Give the CA that signed the brokers' certificates with --kafka-ca FILE (PEM); Node's bundled authorities do not know it.",
      cause: error,
    });
  }
  const closed = has((e) => e.name === 'KafkaJSConnectionClosedError');
  const resetInHandshake = has((e) => /before secure TLS connection was established|wrong version number|packet length too long/i.test(e.message ?? ''));
  if (first && !t.tls && closed && (await speaksTls(first))) {
    return new UserError('KAFKA_TLS_REQUIRED', `${at} closed the connection ${method} opened: the listener speaks TLS.`, {
      hint: "Connect with TLS: create the context with --kafka-ca FILE (the brokers' CA) or --kafka-tls.",
      cause: error,
    });
  }
  if (first && t.tls && resetInHandshake && (await speaksPlainKafka(first))) {
    return new UserError('KAFKA_TLS_NOT_OFFERED', `${at} did not answer the TLS handshake of ${method}: the listener speaks plain text.`, {
      hint: "Use the brokers' TLS listener (--bootstrap-server), or leave out the TLS settings (--kafka-ca, --kafka-tls) for a PLAINTEXT listener.",
      cause: error,
    });
  }
  if (first && !t.sasl && closed) {
    const offered = await saslMechanisms(first, t.tls ? kafkaTls({ ...t.tls, verifyHostname: false }) : undefined);
    if (offered?.length) {
      return new UserError('KAFKA_SASL_REQUIRED', `${at} closed the connection ${method} opened: the listener requires SASL (${offered.join(', ')}).`, {
        hint: `Add --kafka-sasl-mechanism ${offered[0]!.toLowerCase()} --kafka-username U --kafka-password env:VAR to the context.`,
        cause: error,
      });
    }
  }
  return unreachable(t, error);
}

/** Node's TLS message without kafkajs' "Connection error: " prefix and the final period. */
function tlsDetail(message: string | undefined): string {
  return (message ?? 'TLS failure').replace(/^Connection error: /, '').replace(/\.$/, '');
}

function firstBroker(brokers: string): { host: string; port: number } | undefined {
  const first = brokers.split(',')[0]?.trim() ?? '';
  const colon = first.lastIndexOf(':');
  const port = Number(first.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) return undefined;
  return { host: first.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

const PROBE_TIMEOUT_MS = 3_000;
const PROBE_CORRELATION_ID = 0x0b0c;
const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;

/** True when the broker completes a TLS handshake (its certificate unchecked: only the protocol is asked). */
function speaksTls(broker: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ ...broker, rejectUnauthorized: false, ...(net.isIP(broker.host) ? {} : { servername: broker.host }) });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when the broker answers an ApiVersions request in plain text. */
async function speaksPlainKafka(broker: { host: string; port: number }): Promise<boolean> {
  return (await rawKafkaRequest(broker, undefined, API_VERSIONS, 0, Buffer.alloc(0))) !== undefined;
}

/** The SASL mechanisms a listener enables, from a SaslHandshake v1 for one it surely lacks; undefined when it did not answer. */
async function saslMechanisms(broker: { host: string; port: number }, tlsOptions: tls.ConnectionOptions | undefined): Promise<string[] | undefined> {
  const name = Buffer.from('OUTBOXCTL-PROBE');
  const body = Buffer.concat([Buffer.from([name.length >> 8, name.length & 0xff]), name]);
  const answer = await rawKafkaRequest(broker, tlsOptions, SASL_HANDSHAKE, 1, body);
  if (!answer || answer.length < 6) return undefined;
  try {
    const count = answer.readInt32BE(2);
    const mechanisms: string[] = [];
    let at = 6;
    for (let i = 0; i < count; i++) {
      const length = answer.readInt16BE(at);
      mechanisms.push(answer.toString('utf8', at + 2, at + 2 + length));
      at += 2 + length;
    }
    return mechanisms;
  } catch {
    return undefined;
  }
}

/** One request on a connection of its own, outside kafkajs: the response body, or undefined when none came in time. */
function rawKafkaRequest(
  broker: { host: string; port: number },
  tlsOptions: tls.ConnectionOptions | undefined,
  apiKey: number,
  apiVersion: number,
  body: Buffer,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const clientId = Buffer.from('outboxctl-probe');
    const header = Buffer.alloc(14);
    header.writeInt32BE(10 + clientId.length + body.length, 0);
    header.writeInt16BE(apiKey, 4);
    header.writeInt16BE(apiVersion, 6);
    header.writeInt32BE(PROBE_CORRELATION_ID, 8);
    header.writeInt16BE(clientId.length, 12);
    const socket = tlsOptions ? tls.connect({ ...broker, ...tlsOptions, ...(net.isIP(broker.host) ? {} : { servername: broker.host }) }) : net.connect(broker);
    let received = Buffer.alloc(0);
    const done = (result: Buffer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), PROBE_TIMEOUT_MS);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => socket.write(Buffer.concat([header, clientId, body])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 8 || received.length < 4 + received.readInt32BE(0)) return;
      done(received.readInt32BE(4) === PROBE_CORRELATION_ID ? received.subarray(8, 4 + received.readInt32BE(0)) : undefined);
    });
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
  });
}

/** Kafka's own reasons, also those kafkajs keeps inside an aggregate error. */
export function kafkaReason(error: unknown): string {
  const e = error as { message?: string; errors?: { message?: string; type?: string }[] };
  const inner = (e.errors ?? []).map((x) => x.message ?? x.type).filter(Boolean);
  return (inner.length ? inner.join('; ') : (e.message ?? String(error))).replace(/\.$/, '');
}
