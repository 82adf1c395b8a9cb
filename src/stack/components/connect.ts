import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderTemplateFile } from '../../lib/template.js';
import type { ArtifactSet } from '../artifacts.js';
import { javaArgs, kafkaArtifacts, log4jConfig } from './jvm.js';
import type { Component, ServiceContext } from './types.js';
import { DEBEZIUM_VERSION, KAFKA_VERSION } from './versions.js';

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
      await writeFile(
        workerFile(ctx),
        (await renderTemplateFile('connect/worker.properties', {
          BOOTSTRAP_SERVERS: ctx.endpoints.kafka!,
          HOST: ctx.host,
          ADVERTISED_HOST: ctx.clientHost,
          PORT: ctx.ports.main!,
          PLUGIN_PATH: pluginPath,
        })) + (extra ? `\n# OUTBOXCTL_CONNECT_EXTRA_CONFIG\n${extra.replace(/;/g, '\n')}\n` : ''),
      );
    },

    async launch(ctx) {
      const log4j = await log4jConfig(ctx);
      return {
        command: 'java',
        args: javaArgs(HEAP_MB, ctx.artifacts[kafkaArtifacts.id]!, log4j, 'org.apache.kafka.connect.cli.ConnectDistributed', [workerFile(ctx)]),
      };
    },
  },
};
