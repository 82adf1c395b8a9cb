import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderTemplateFile } from '../../lib/template.js';
import type { ArtifactSet } from '../artifacts.js';
import { javaArgs, kafkaArtifacts, log4jConfig } from './jvm.js';
import { CONTAINER_SECRETS_DIR, DEBEZIUM_SECRET_FILE, debeziumSecretContent, stackSecretsDir, writeSecretFile } from './secrets.js';
import type { Component, ServiceContext } from './types.js';
import { CONNECT_IMAGE, DEBEZIUM_VERSION, KAFKA_VERSION } from './versions.js';

const HEAP_MB = 768;
export const DEBEZIUM_POSTGRES_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';

/**
 * Debezium's PostgreSQL connector as a Connect plugin: its own directory, without Kafka's
 * jars (and the libraries Connect already has, whose second copy breaks class identity).
 */
export const debeziumPostgresPlugin: ArtifactSet = {
  id: `debezium-connector-postgres-${DEBEZIUM_VERSION}`,
  artifacts: [{ groupId: 'io.debezium', artifactId: 'debezium-connector-postgres', version: DEBEZIUM_VERSION }],
  excludeGroupIds: ['org.apache.kafka', 'org.slf4j', 'com.fasterxml.jackson.core', 'org.lz4', 'org.xerial.snappy', 'com.github.luben'],
};

/** Plugin sets installed into the worker; one directory each on plugin.path. */
export const CONNECT_PLUGINS: ArtifactSet[] = [debeziumPostgresPlugin];

function workerFile(ctx: ServiceContext): string {
  return path.join(ctx.configDir, 'worker.properties');
}

/**
 * Kafka's FileConfigProvider (KIP-297) as `file`, reading only below `dir`: a connector config says
 * `${file:<dir>/debezium.properties:password}` and the worker resolves it when it starts the
 * connector, so the password is in neither the REST answers nor the config topic.
 */
export const fileConfigProvider = (dir: string) => ({
  'config.providers': 'file',
  'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
  'config.providers.file.param.allowed.paths': dir,
});

/** A distributed Kafka Connect worker with Debezium installed. */
export const connectComponent: Component = {
  name: 'connect',
  summary: `Kafka Connect ${KAFKA_VERSION} with Debezium ${DEBEZIUM_VERSION}`,
  version: `${KAFKA_VERSION} (Debezium ${DEBEZIUM_VERSION})`,
  dependsOn: ['kafka'],
  ports: [{ name: 'main', preferred: 8083 }],
  readiness: {
    describe: `GET /connector-plugins lists ${DEBEZIUM_POSTGRES_CLASS}`,
    check: {
      kind: 'http',
      path: '/connector-plugins',
      expect: (body) =>
        Array.isArray(body) && body.some((p: { class?: string }) => p.class === DEBEZIUM_POSTGRES_CLASS)
          ? undefined
          : `${DEBEZIUM_POSTGRES_CLASS} is not listed yet`,
    },
  },

  endpointNames: ['connect'],
  endpoints: async (at) => ({ connect: `http://${at.host}:${at.ports.main}` }),

  native: {
    artifactSets: [kafkaArtifacts, ...CONNECT_PLUGINS],
    jvm: true,
    stopSignal: 'SIGTERM',
    stopGraceMs: 30_000,

    async prepare(ctx) {
      await mkdir(ctx.configDir, { recursive: true });
      // Each plugin's cache directory holds exactly one plugin directory (libs/).
      const pluginPath = CONNECT_PLUGINS.map((p) => ctx.artifacts[p.id]!).join(',');
      const extra = ctx.env.OUTBOXCTL_CONNECT_EXTRA_CONFIG ?? '';
      // Connect runs as this user: the file is 0600 in the stack's 0700 secrets directory.
      await writeSecretFile(ctx.paths, DEBEZIUM_SECRET_FILE, debeziumSecretContent(await ctx.secret('debeziumPassword')), 0o600);
      const providers = Object.entries(fileConfigProvider(stackSecretsDir(ctx.paths))).map(([k, v]) => `${k}=${v}`);
      await writeFile(
        workerFile(ctx),
        (await renderTemplateFile('connect/worker.properties', {
          BOOTSTRAP_SERVERS: ctx.endpoints.kafka!,
          HOST: ctx.host,
          ADVERTISED_HOST: ctx.clientHost,
          PORT: ctx.ports.main!,
          PLUGIN_PATH: pluginPath,
          CONFIG_PROVIDERS: providers.join('\n'),
        })) + (extra ? `\n# OUTBOXCTL_CONNECT_EXTRA_CONFIG\n${extra.replace(/;/g, '\n')}\n` : ''),
      );
    },

    async launch(ctx) {
      const log4j = await log4jConfig(ctx);
      // No class-data-sharing archive: the worker's (with its plugins' classes) took longer to write at
      // its exit than `down`'s grace on a busy machine, so it was never written.
      return {
        command: 'java',
        args: javaArgs(HEAP_MB, ctx.artifacts[kafkaArtifacts.id]!, log4j, 'org.apache.kafka.connect.cli.ConnectDistributed', [workerFile(ctx)]),
      };
    },
  },

  // Confluent's Connect image configures the worker from CONNECT_* variables (a property each);
  // compose/connect/ adds Debezium and Confluent's Elasticsearch sink to it.
  container: {
    image: CONNECT_IMAGE,
    build: 'connect',
    env: async (ctx) => ({
      CONNECT_BOOTSTRAP_SERVERS: ctx.endpoints.kafka!,
      CONNECT_GROUP_ID: 'outboxctl-connect',
      CONNECT_CONFIG_STORAGE_TOPIC: '_connect-configs',
      CONNECT_OFFSET_STORAGE_TOPIC: '_connect-offsets',
      CONNECT_STATUS_STORAGE_TOPIC: '_connect-status',
      CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR: '1',
      CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR: '1',
      CONNECT_STATUS_STORAGE_REPLICATION_FACTOR: '1',
      CONNECT_OFFSET_FLUSH_INTERVAL_MS: '1000',
      CONNECT_KEY_CONVERTER: 'org.apache.kafka.connect.json.JsonConverter',
      CONNECT_VALUE_CONVERTER: 'org.apache.kafka.connect.json.JsonConverter',
      CONNECT_KEY_CONVERTER_SCHEMAS_ENABLE: 'false',
      CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE: 'false',
      CONNECT_REST_PORT: String(ctx.ports.main),
      CONNECT_REST_ADVERTISED_HOST_NAME: 'connect',
      CONNECT_PLUGIN_PATH: '/usr/share/java,/usr/share/confluent-hub-components',
      // Confluent Hub's plugins carry no ServiceLoader manifests: scan for them, warn about it.
      CONNECT_PLUGIN_DISCOVERY: 'hybrid_warn',
      // config.providers.file.* (cp-kafka-connect's mapping: `_` → `.`).
      ...Object.fromEntries(Object.entries(fileConfigProvider(CONTAINER_SECRETS_DIR)).map(([k, v]) => [`CONNECT_${k.replace(/\./g, '_').toUpperCase()}`, v])),
      KAFKA_HEAP_OPTS: `-Xms256m -Xmx${HEAP_MB}m`,
    }),
    // The image runs as its own user (appuser, uid 1000): the file is mounted read-only, 0644, from the
    // stack's 0700 secrets directory, which keeps the host's other users out.
    secretFiles: async (ctx) => [
      {
        name: DEBEZIUM_SECRET_FILE,
        target: `${CONTAINER_SECRETS_DIR}/${DEBEZIUM_SECRET_FILE}`,
        content: debeziumSecretContent(await ctx.secret('debeziumPassword')),
      },
    ],
    stopGraceMs: 30_000,
  },
};
