import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ExternalCommandError } from '../../lib/errors.js';
import { renderTemplateFile } from '../../lib/template.js';
import { javaArgs, kafkaArtifacts, kafkaToolsArtifacts, log4jConfig, serviceSharing } from './jvm.js';
import type { Component, ServiceContext } from './types.js';
import { KAFKA_IMAGE, KAFKA_VERSION } from './versions.js';

const HEAP_MB = 512;
/** The listener of the stack's network in a container (never published). */
const INTERNAL_PORT = 19092;

/**
 * A cluster id as `kafka-storage random-uuid` makes it: 16 random bytes in base64url, never
 * starting with "-" (the storage tool would read it as an option).
 */
export function kafkaClusterId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The same kind of id, derived from a stack secret (a container formats its storage with it on each new volume). */
export function kafkaClusterIdFrom(seed: string): string {
  const bytes = createHash('sha256').update(seed).digest().subarray(0, 16);
  // The top bit clear: the first base64 digit is below 32, never "-".
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('base64url');
}

function files(ctx: ServiceContext) {
  return { properties: path.join(ctx.configDir, 'server.properties'), logDirs: path.join(ctx.dataDir, 'logs') };
}

/** Apache Kafka, one node in KRaft combined mode; topics are never auto-created. */
export const kafkaComponent: Component = {
  name: 'kafka',
  summary: `Apache Kafka ${KAFKA_VERSION} (KRaft, one node)`,
  version: KAFKA_VERSION,
  dependsOn: [],
  ports: [
    // In a container: 9092 is the listener advertised to the host, 19092 the stack network's.
    { name: 'main', preferred: 9092, container: 9092, peer: INTERNAL_PORT },
    { name: 'controller', preferred: 9093, container: 9093 },
  ],
  readiness: {
    describe: 'a metadata request listing the broker',
    check: {
      kind: 'query',
      async run(at) {
        // A closed port fails at once; the client would retry it for a second before saying so.
        const [{ describeBrokers }, { probePort }] = await Promise.all([import('../../clients/kafka.js'), import('../readiness.js')]);
        await probePort(at.host, at.ports.main!, 2_000);
        await describeBrokers(`${at.host}:${at.ports.main}`);
      },
    },
  },

  // Kafka's tools read no environment: `outboxctl exec` adds `--bootstrap-server` from this one when none is given.
  execEnv: async (at) => ({ KAFKA_BOOTSTRAP_SERVERS: `${at.host}:${at.ports.main}` }),

  endpointNames: ['kafka'],
  endpoints: async (at) => ({ kafka: `${at.host}:${at.ports.main}` }),

  native: {
    // The tools too: `fetch` (and so an offline machine) has what `exec kafka` needs.
    artifactSets: [kafkaArtifacts, kafkaToolsArtifacts],
    jvm: true,
    stopSignal: 'SIGTERM',
    stopGraceMs: 30_000,

    async prepare(ctx) {
      const { properties, logDirs } = files(ctx);
      await mkdir(ctx.configDir, { recursive: true });
      await mkdir(logDirs, { recursive: true });
      await writeFile(
        properties,
        await renderTemplateFile('kafka/server.properties', {
          HOST: ctx.host,
          ADVERTISED_HOST: ctx.clientHost,
          PORT: ctx.ports.main!,
          CONTROLLER_PORT: ctx.ports.controller!,
          LOG_DIRS: logDirs,
        }),
      );
      if (existsSync(path.join(logDirs, 'meta.properties'))) return;
      // Format once.
      const clusterId = kafkaClusterId();
      ctx.onProgress(`formatting Kafka storage (cluster ${clusterId})`);
      const log4j = await log4jConfig(ctx);
      const args = javaArgs(256, ctx.artifacts[kafkaArtifacts.id]!, log4j, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', properties]);
      const result = await execa('java', args, { reject: false, all: true });
      if (result.exitCode !== 0) {
        throw new ExternalCommandError(`java ${args.join(' ')}`, `Formatting Kafka storage failed: ${(result.all ?? '').trim().split('\n').pop() ?? ''}`);
      }
    },

    async launch(ctx) {
      const log4j = await log4jConfig(ctx);
      const dir = ctx.artifacts[kafkaArtifacts.id]!;
      const sharing = await serviceSharing(ctx, 'kafka', dir, 'kafka.Kafka');
      return { command: 'java', args: javaArgs(HEAP_MB, dir, log4j, 'kafka.Kafka', [files(ctx).properties], sharing) };
    },
  },

  // The official image configures the broker from KAFKA_* variables (a property each) and formats
  // its storage with CLUSTER_ID on the first start.
  container: {
    image: KAFKA_IMAGE,
    env: async (ctx) => ({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `INTERNAL://:${INTERNAL_PORT},EXTERNAL://:${ctx.ports.main},CONTROLLER://:${ctx.ports.controller}`,
      KAFKA_ADVERTISED_LISTENERS: `INTERNAL://kafka:${INTERNAL_PORT},EXTERNAL://${ctx.clientHost}:${ctx.hostPorts.main}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: `1@localhost:${ctx.ports.controller}`,
      CLUSTER_ID: kafkaClusterIdFrom(await ctx.secret('kafkaCluster')),
      KAFKA_LOG_DIRS: '/var/lib/kafka/data',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      // As in the native server.properties: an unclean restart waits 3 s for the old registration.
      KAFKA_BROKER_SESSION_TIMEOUT_MS: '3000',
      KAFKA_BROKER_HEARTBEAT_INTERVAL_MS: '1000',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_HEAP_OPTS: `-Xms256m -Xmx${HEAP_MB}m`,
    }),
    volume: '/var/lib/kafka/data',
    stopGraceMs: 30_000,
    execPath: ['/opt/kafka/bin'],
  },
};
