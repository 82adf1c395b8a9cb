import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ExternalCommandError } from '../../lib/errors.js';
import { renderTemplateFile } from '../../lib/template.js';
import { javaArgs, kafkaArtifacts, log4jConfig } from './jvm.js';
import type { Component, ServiceContext } from './types.js';
import { KAFKA_VERSION } from './versions.js';

const HEAP_MB = 512;

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
    { name: 'main', preferred: 9092 },
    { name: 'controller', preferred: 9093 },
  ],
  readiness: {
    describe: 'a metadata request listing the broker',
    check: {
      kind: 'query',
      async run(at) {
        const { describeBrokers } = await import('../../clients/kafka.js');
        await describeBrokers(`${at.host}:${at.ports.main}`);
      },
    },
  },

  endpointNames: ['kafka'],
  endpoints: async (at) => ({ kafka: `${at.host}:${at.ports.main}` }),

  native: {
    artifactSets: [kafkaArtifacts],
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
      return { command: 'java', args: javaArgs(HEAP_MB, ctx.artifacts[kafkaArtifacts.id]!, log4j, 'kafka.Kafka', [files(ctx).properties]) };
    },
  },
};
