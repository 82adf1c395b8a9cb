import path from 'node:path';
import { templatePath } from '../../lib/template.js';
import type { ArtifactSet } from '../artifacts.js';
import type { Component } from './types.js';
import { ELASTICSEARCH_IMAGE, ELASTICSEARCH_VERSION, ES_LOG4J_VERSION } from './versions.js';

const HEAP_MB = 1024;

/**
 * Elasticsearch 7.10.2 in one JVM through codelibs' cluster runner (Apache-2.0), the newest
 * real Elasticsearch that runs from Maven Central artifacts; log4j pinned past CVE-2021-44228.
 */
export const elasticsearchArtifacts: ArtifactSet = {
  id: `elasticsearch-${ELASTICSEARCH_VERSION}`,
  artifacts: [
    { groupId: 'org.codelibs', artifactId: 'elasticsearch-cluster-runner', version: `${ELASTICSEARCH_VERSION}.0` },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-api', version: ES_LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: ES_LOG4J_VERSION },
  ],
};

export const elasticsearchComponent: Component = {
  name: 'elasticsearch',
  summary: `Elasticsearch ${ELASTICSEARCH_VERSION} (one node)`,
  version: `Elasticsearch ${ELASTICSEARCH_VERSION}`,
  dependsOn: [],
  ports: [
    { name: 'main', preferred: 9200 },
    { name: 'transport', preferred: 9300 },
  ],
  readiness: {
    describe: 'cluster health is at least yellow',
    check: {
      kind: 'query',
      async run(at) {
        const { SearchClient } = await import('../../clients/search.js');
        const client = await SearchClient.connect(`http://${at.host}:${at.ports.main}`, { deadlineMs: 2_000 });
        try {
          const health = await client.health();
          if (health.status !== 'green' && health.status !== 'yellow') throw new Error(`cluster health is ${health.status}`);
        } finally {
          await client.close();
        }
      },
    },
  },

  async afterReady(at) {
    // Status shows what really answers, not what was meant to start.
    const { SearchClient } = await import('../../clients/search.js');
    const engine = await SearchClient.detect(`http://${at.host}:${at.ports.main}`);
    return { version: `${engine.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${engine.version}` };
  },

  endpointNames: ['elasticsearch'],
  endpoints: async (at) => ({ elasticsearch: `http://${at.host}:${at.ports.main}` }),

  native: {
    artifactSets: [elasticsearchArtifacts],
    jvm: true,
    stopSignal: 'SIGTERM',
    stopGraceMs: 30_000,

    async launch(ctx) {
      // Java runs the launcher straight from its source file (JEP 330): no build step.
      return {
        command: 'java',
        args: [
          `-Xms${HEAP_MB}m`,
          `-Xmx${HEAP_MB}m`,
          '-XX:+UseG1GC',
          '-XX:+ExitOnOutOfMemoryError',
          '-Djava.awt.headless=true',
          '-Dlog4j2.formatMsgNoLookups=true',
          '-cp',
          `${path.join(ctx.artifacts[elasticsearchArtifacts.id]!, 'libs')}/*`,
          templatePath('elasticsearch/EsRunner.java'),
          ctx.dataDir,
          ctx.host,
          String(ctx.ports.main),
          String(ctx.ports.transport),
          `outboxctl-${ctx.paths.name}`,
        ],
      };
    },
  },

  // One node for local use: single-node discovery, security off (no TLS, no password).
  container: {
    image: ELASTICSEARCH_IMAGE,
    env: async (ctx) => ({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'false',
      'cluster.name': `outboxctl-${ctx.stack}`,
      ES_JAVA_OPTS: `-Xms${HEAP_MB}m -Xmx${HEAP_MB}m`,
    }),
    volume: '/usr/share/elasticsearch/data',
    stopGraceMs: 30_000,
  },
};
