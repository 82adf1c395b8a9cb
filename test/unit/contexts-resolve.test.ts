import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextTargets } from '../../src/contexts/targets.js';
import {
  type ContextTargets,
  contextOverriddenBy,
  ENDPOINTS,
  type EndpointName,
  redactUrl,
  resolveDatabaseUrl,
  resolveEndpoint,
  resolveHttpTarget,
  resolveKafkaTarget,
  resolveToken,
  urlCarriesPassword,
} from '../../src/lib/config.js';
import { CliError } from '../../src/lib/errors.js';

/** A context naming every endpoint, its secrets in environment variables the tests set or leave unset. */
const full = (env: NodeJS.ProcessEnv = {}): ContextTargets =>
  contextTargets(
    'staging',
    {
      kafka: {
        'bootstrap-servers': 'ctx-kafka:9093',
        tls: { 'ca-file': '/ca.pem' },
        sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'env:KAFKA_PW' },
      },
      connect: { url: 'https://ctx-connect:8083', username: 'admin', password: 'env:CONNECT_PW', tls: { 'ca-file': 'ca.pem' } },
      elasticsearch: { url: 'https://ctx-search:9200', 'api-key': 'env:ES_KEY' },
      database: { url: 'postgres://outbox@ctx-db:5432/outbox?sslmode=verify-full', password: 'env:PG_PW' },
      tracking: { url: 'http://ctx-tracking:8080', token: 'env:TRACKING_TOKEN' },
      auditing: { url: 'http://ctx-auditing:5000', token: 'env:AUDITING_TOKEN' },
    },
    { env, baseDir: '/etc/outboxctl' },
  );

const CONTEXT_VALUE: Record<EndpointName, string> = {
  kafka: 'ctx-kafka:9093',
  connect: 'https://ctx-connect:8083',
  elasticsearch: 'https://ctx-search:9200',
  database: 'postgres://outbox@ctx-db:5432/outbox?sslmode=verify-full',
  tracking: 'http://ctx-tracking:8080',
  auditing: 'http://ctx-auditing:5000',
};

const state = { endpoints: Object.fromEntries(Object.keys(ENDPOINTS).map((n) => [n, `state-${n}`])), secrets: { token: 'state-token' } };

const thrown = (fn: () => unknown): CliError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('did not throw');
};

describe('endpoint precedence: flag > environment > context > state > default', () => {
  for (const name of Object.keys(ENDPOINTS) as EndpointName[]) {
    const spec = ENDPOINTS[name];
    it(`${name}: every level in turn`, () => {
      const context = full();
      const flags = { [spec.option]: `flag-${name}` };
      const env = { [spec.env]: `env-${name}` };
      expect(resolveEndpoint(name, { flags, env, context, state })).toEqual({ value: `flag-${name}`, source: 'flag' });
      expect(resolveEndpoint(name, { flags: {}, env, context, state })).toEqual({ value: `env-${name}`, source: 'env' });
      expect(resolveEndpoint(name, { flags: {}, env: {}, context, state })).toEqual({ value: CONTEXT_VALUE[name], source: 'context' });
      expect(resolveEndpoint(name, { flags: {}, env: {}, state })).toEqual({ value: `state-${name}`, source: 'state' });
      expect(resolveEndpoint(name, { flags: {}, env: {} })).toEqual({ value: spec.fallback, source: 'default' });
    });

    it(`${name}: a context without it is an error naming the context, never the stack's or the default`, () => {
      const context: ContextTargets = { name: 'bare' };
      const error = thrown(() => resolveEndpoint(name, { flags: {}, env: {}, context, state }));
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain('Context "bare" names no');
      expect(error.message).toContain(spec.flag);
      expect(error.message).not.toContain('state-');
    });
  }
});

describe('targets carry the context auth, read only when used', () => {
  it('Kafka: TLS and SASL from the context; a --bootstrap-server that overrides the address keeps them', () => {
    const context = full({ KAFKA_PW: 's3cret' });
    expect(resolveKafkaTarget({ flags: {}, env: {}, context })).toEqual({
      brokers: 'ctx-kafka:9093',
      tls: { caFile: '/ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' },
    });
    const overridden = resolveKafkaTarget({ flags: { bootstrapServer: 'other:9093' }, env: {}, context });
    expect(overridden.brokers).toBe('other:9093');
    expect(overridden.sasl?.password).toBe('s3cret');
    expect(resolveKafkaTarget({ flags: {}, env: {}, state })).toEqual({ brokers: 'state-kafka' });
  });

  it('HTTP: basic auth, a CA relative to the config directory, an API key; tokens per server', () => {
    const context = full({ CONNECT_PW: 'cpw', ES_KEY: 'a2V5', TRACKING_TOKEN: 'tt', AUDITING_TOKEN: 'at' });
    const input = { flags: {}, env: {}, context };
    expect(resolveHttpTarget('connect', input)).toEqual({
      url: 'https://ctx-connect:8083',
      tls: { caFile: '/etc/outboxctl/ca.pem' },
      basic: { username: 'admin', password: 'cpw' },
    });
    expect(resolveHttpTarget('elasticsearch', input)).toEqual({ url: 'https://ctx-search:9200', apiKey: 'a2V5' });
    expect(resolveHttpTarget('tracking', input)).toEqual({ url: 'http://ctx-tracking:8080', token: 'tt' });
    expect(resolveHttpTarget('auditing', input)).toEqual({ url: 'http://ctx-auditing:5000', token: 'at' });
    expect(resolveHttpTarget('connect', { flags: { connectUrl: 'https://elsewhere' }, env: {}, context }).basic?.password).toBe('cpw');
  });

  it("an address from the environment gets none of the context's TLS settings or credentials; a flag's keeps them", () => {
    const context = full({ KAFKA_PW: 'kpw', CONNECT_PW: 'cpw', ES_KEY: 'a2V5', TRACKING_TOKEN: 'tt', AUDITING_TOKEN: 'at', PG_PW: 'pgpw' });
    const env = {
      KAFKA_BOOTSTRAP_SERVERS: 'env-kafka:9092',
      KAFKA_CONNECT_URL: 'http://env-connect:8083',
      ELASTICSEARCH_URL: 'http://env-search:9200',
      DATABASE_URL: 'postgres://outbox@env-db:5432/outbox',
      TRACKING_URL: 'http://env-tracking:8080',
      AUDITING_URL: 'http://env-auditing:5000',
    };
    const input = { flags: {}, env, context };
    expect(resolveKafkaTarget(input)).toEqual({ brokers: 'env-kafka:9092' });
    expect(resolveHttpTarget('connect', input)).toEqual({ url: 'http://env-connect:8083' });
    expect(resolveHttpTarget('elasticsearch', input)).toEqual({ url: 'http://env-search:9200' });
    expect(resolveHttpTarget('tracking', input)).toEqual({ url: 'http://env-tracking:8080' });
    expect(resolveHttpTarget('auditing', input)).toEqual({ url: 'http://env-auditing:5000' });
    expect(resolveToken(input, 'tracking')).toEqual({ value: undefined, source: 'none' });
    expect(resolveDatabaseUrl(input)).toEqual({ value: 'postgres://outbox@env-db:5432/outbox', source: 'env' });
    for (const name of Object.keys(ENDPOINTS) as EndpointName[]) expect(contextOverriddenBy(name, input)).toBe(ENDPOINTS[name].env);
    // A secret the context names is not even read for an address it does not go to.
    const unreadable = full();
    expect(resolveKafkaTarget({ flags: {}, env, context: unreadable })).toEqual({ brokers: 'env-kafka:9092' });
    // A token given for the purpose still goes with it.
    expect(resolveHttpTarget('tracking', { flags: {}, env: { ...env, OUTBOXCTL_TOKEN: 'own' }, context }).token).toBe('own');

    // A flag is an explicit choice: it beats the variable and keeps the context's auth.
    const flags = {
      bootstrapServer: 'flag-kafka:9093',
      connectUrl: 'https://flag-connect:8083',
      elasticsearchUrl: 'https://flag-search:9200',
      databaseUrl: 'postgres://outbox@flag-db:5432/outbox',
      trackingUrl: 'http://flag-tracking:8080',
    };
    const flagged = { flags, env, context };
    expect(resolveKafkaTarget(flagged)).toEqual({
      brokers: 'flag-kafka:9093',
      tls: { caFile: '/ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'kpw' },
    });
    expect(resolveHttpTarget('connect', flagged).basic?.password).toBe('cpw');
    expect(resolveHttpTarget('elasticsearch', flagged).apiKey).toBe('a2V5');
    expect(resolveHttpTarget('tracking', flagged).token).toBe('tt');
    expect(new URL(resolveDatabaseUrl(flagged).value!).password).toBe('pgpw');
    expect(contextOverriddenBy('kafka', flagged)).toBeUndefined();
    // Without a context there is nothing to override.
    expect(contextOverriddenBy('kafka', { flags: {}, env })).toBeUndefined();
  });

  it('an unset reference fails only the endpoint that uses it, naming context, field and reference', () => {
    const context = full({ CONNECT_PW: 'cpw' });
    const input = { flags: {}, env: {}, context };
    // Connect and the addresses resolve although Kafka's and the auditing server's secrets cannot be read.
    expect(resolveHttpTarget('connect', input).basic?.password).toBe('cpw');
    expect(resolveEndpoint('auditing', input).value).toBe('http://ctx-auditing:5000');
    const error = thrown(() => resolveKafkaTarget(input));
    expect(error.message).toBe('Context "staging": kafka.sasl.password refers to env:KAFKA_PW, which is not set.');
    expect(thrown(() => resolveHttpTarget('auditing', input)).message).toBe(
      'Context "staging": auditing.token refers to env:AUDITING_TOKEN, which is not set.',
    );
  });

  it('a file: reference is read at use, one trailing line break dropped', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-ctx-'));
    const context = contextTargets('f', { connect: { url: 'http://c', username: 'u', password: 'file:pw.txt' } }, { env: {}, baseDir: dir });
    const input = { flags: {}, env: {}, context };
    expect(thrown(() => resolveHttpTarget('connect', input)).message).toBe(`Context "f": connect.password refers to file:pw.txt, which does not exist.`);
    await writeFile(path.join(dir, 'pw.txt'), 'pa ss\n');
    expect(resolveHttpTarget('connect', input).basic?.password).toBe('pa ss');
  });

  it('tokens: --token > OUTBOXCTL_TOKEN > the context token for that server; never the stack token under a context', () => {
    const context = full({ TRACKING_TOKEN: 'ctx-tt' });
    expect(resolveToken({ flags: { token: 'ft' }, env: { OUTBOXCTL_TOKEN: 'et' }, context, state }, 'tracking')).toEqual({ value: 'ft', source: 'flag' });
    expect(resolveToken({ flags: {}, env: { OUTBOXCTL_TOKEN: 'et' }, context, state }, 'tracking')).toEqual({ value: 'et', source: 'env' });
    expect(resolveToken({ flags: {}, env: {}, context, state }, 'tracking')).toEqual({ value: 'ctx-tt', source: 'context' });
    expect(resolveToken({ flags: {}, env: {}, context: { name: 'x' }, state }, 'tracking')).toEqual({ value: undefined, source: 'none' });
    expect(resolveToken({ flags: {}, env: {}, state }, 'tracking')).toEqual({ value: 'state-token', source: 'state' });
  });

  it('a literal token a header cannot carry is an error that does not repeat it', () => {
    const context = contextTargets('lit', { tracking: { url: 'http://t', token: 'two words' } }, { env: {}, baseDir: '/' });
    const error = thrown(() => resolveToken({ flags: {}, env: {}, context }, 'tracking'));
    expect(error.message).toContain('****');
    expect(error.message).not.toContain('two words');
  });

  it("the database URL gets the context's password when it has none of its own", () => {
    const context = full({ PG_PW: 'p@ss/word' });
    const { value, source } = resolveDatabaseUrl({ flags: {}, env: {}, context });
    expect(source).toBe('context');
    expect(new URL(value!).password).toBe(encodeURIComponent('p@ss/word'));
    expect(decodeURIComponent(new URL(value!).password)).toBe('p@ss/word');
    expect(value).toContain('sslmode=verify-full');
    expect(resolveDatabaseUrl({ flags: { databaseUrl: 'postgres://u:own@h/db' }, env: {}, context }).value).toBe('postgres://u:own@h/db');
    expect(resolveEndpoint('database', { flags: {}, env: {}, context }).value).not.toContain('p%40ss');
  });
});

describe('URLs are printed without their passwords', () => {
  it('masks the userinfo password and password / sslpassword query parameters (pg-connection-string reads both), nothing else', () => {
    expect(redactUrl('postgres://u:secret@h:1/db')).toBe('postgres://u:****@h:1/db');
    expect(redactUrl('postgres://u@h:1/db?password=secret')).toBe('postgres://u@h:1/db?password=****');
    expect(redactUrl('postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&password=s%40cret&sslpassword=keypw')).toBe(
      'postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&password=****&sslpassword=****',
    );
    expect(redactUrl('postgres://u:pw@h/db?PASSWORD=a&pass%77ord=b&password=c')).toBe('postgres://u:****@h/db?PASSWORD=****&pass%77ord=****&password=****');
    // Unchanged: no password, or an empty one; a parameter that only ends in "password".
    for (const url of ['postgres://u@h/db?sslmode=require', 'postgres://u@h/db?password=', 'postgres://u@h/db?oldpassword=x', 'kafka:9092']) {
      expect(redactUrl(url)).toBe(url);
    }
    // Not a URL the parser takes: the same, by text.
    expect(redactUrl('postgres://u:pw@h:bad/db?password=secret#x')).toBe('postgres://u:****@h:bad/db?password=****#x');
  });

  it('urlCarriesPassword sees either', () => {
    expect(urlCarriesPassword('postgres://u:pw@h/db')).toBe(true);
    expect(urlCarriesPassword('postgres://u@h/db?password=pw')).toBe(true);
    expect(urlCarriesPassword('postgres://u@h/db?sslpassword=pw')).toBe(true);
    expect(urlCarriesPassword('postgres://u@h/db?sslmode=require')).toBe(false);
    expect(urlCarriesPassword('postgres://u@h/db?password=')).toBe(false);
  });

  it("a context's password is not put into a URL that has one in its query", () => {
    const context = full({ PG_PW: 'ctx' });
    const url = 'postgres://u@h/db?password=own';
    expect(resolveDatabaseUrl({ flags: { databaseUrl: url }, env: {}, context }).value).toBe(url);
  });
});
