import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectClient, ConnectorStatus } from '../../src/clients/connect.js';
import { diffConfig, formatChange, maskConfig } from '../../src/connectors/config-diff.js';
import { packagedConnectorDir } from '../../src/connectors/files.js';
import { parseConnectorFile } from '../../src/connectors/spec.js';
import { fieldErrors, findPlugin, rootCause } from '../../src/connectors/status.js';
import { connectorVariables, debeziumSlotName } from '../../src/connectors/variables.js';
import { waitForState } from '../../src/connectors/wait.js';
import type { CliError } from '../../src/lib/errors.js';
import { emptyState } from '../../src/stack/state.js';

const vars = {
  POSTGRES_HOST: '127.0.0.1',
  POSTGRES_PORT: '39405',
  POSTGRES_DB: 'outbox',
  DEBEZIUM_USER: 'debezium',
  DEBEZIUM_PASSWORD: 's3cret"\\',
  DEBEZIUM_SLOT: 'outboxctl_default',
  CONNECT_SECRETS_DIR: '/run/secrets',
  KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092',
  ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
  STACK: 'default',
};

describe('connector files', () => {
  it('fill placeholders after parsing (a quote in a value cannot break the JSON) and carry the name', () => {
    const spec = parseConnectorFile(
      '{"name":"c-${STACK}","config":{"connector.class":"X","database.password":"${DEBEZIUM_PASSWORD}","tasks.max":1,"flag":true}}',
      'c.json',
      vars,
    );
    expect(spec).toEqual({
      name: 'c-default',
      file: 'c.json',
      config: { 'connector.class': 'X', 'database.password': 's3cret"\\', 'tasks.max': '1', flag: 'true', name: 'c-default' },
    });
  });

  it('a malformed file or an unknown placeholder is one sentence naming the file', () => {
    const message = (text: string) => {
      try {
        parseConnectorFile(text, 'bad.json', vars);
      } catch (error) {
        return (error as CliError).message;
      }
      return 'no error';
    };
    expect(message('{"name": "x",')).toMatch(/^bad\.json is not valid JSON: .+\.$/);
    expect(message('[]')).toBe('bad.json is not a connector file: it is not a JSON object.');
    expect(message('{"config": {}}')).toBe('bad.json is not a connector file: "name" is missing or not a string.');
    expect(message('{"name": "x", "config": {"a": "b"}}')).toBe('bad.json is not a connector file: config has no "connector.class".');
    expect(message('{"name": "x", "config": {"connector.class": "X", "k": {"n": 1}}}')).toBe(
      'bad.json is not a connector file: config "k" is an object, not a string, number or boolean.',
    );
    expect(message('{"name": "x", "config": {"connector.class": "X", "u": "${NOPE}"}}')).toBe('bad.json uses ${NOPE}, which has no value.');
  });

  it('the shipped files render from placeholders (never localhost) with the outbox router settings', async () => {
    const dir = packagedConnectorDir();
    const dbz = parseConnectorFile(await readFile(path.join(dir, 'dbz-source-connector.json'), 'utf8'), 'dbz', vars);
    const sink = parseConnectorFile(await readFile(path.join(dir, 'es-sink-connector.json'), 'utf8'), 'es', vars);
    expect(dbz.name).toBe('parcel-outbox-source');
    expect(sink.name).toBe('elasticsearch-sink');
    for (const spec of [dbz, sink]) expect(JSON.stringify(spec)).not.toMatch(/localhost/);
    expect(dbz.config).toMatchObject({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'plugin.name': 'pgoutput',
      'database.hostname': '127.0.0.1',
      'database.port': '39405',
      'database.dbname': 'outbox',
      'slot.name': 'outboxctl_default',
      'publication.autocreate.mode': 'disabled',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'transforms.outbox.type': 'io.debezium.transforms.outbox.EventRouter',
      'transforms.outbox.route.topic.replacement': 'parcel.outbox',
    });
    expect(sink.config).toMatchObject({
      'connection.url': 'http://127.0.0.1:9200',
      topics: 'parcel.outbox',
      'transforms.extractEventId.type': 'org.apache.kafka.connect.transforms.ExtractField$Key',
    });
  });
});

describe('connector variables', () => {
  const state = {
    ...emptyState('CI-Stack'),
    endpoints: { database: 'postgres://postgres:pw@127.0.0.1:39405/outbox', kafka: '127.0.0.1:9092' },
    secrets: { debeziumPassword: 'dbz' },
  };
  it('come from the stack state; an environment variable of the same name wins', () => {
    expect(connectorVariables('CI-Stack', state, {})).toEqual({
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: '39405',
      POSTGRES_DB: 'outbox',
      DEBEZIUM_USER: 'debezium',
      DEBEZIUM_PASSWORD: 'dbz',
      DEBEZIUM_SLOT: 'outboxctl_ci_stack',
      KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092',
      ELASTICSEARCH_URL: 'http://localhost:9200',
      STACK: 'CI-Stack',
    });
    expect(connectorVariables('CI-Stack', state, { POSTGRES_HOST: 'db.internal', DEBEZIUM_PASSWORD: 'x' })).toMatchObject({
      POSTGRES_HOST: 'db.internal',
      DEBEZIUM_PASSWORD: 'x',
      POSTGRES_PORT: '39405',
    });
    expect(connectorVariables('s', undefined, {}).DEBEZIUM_PASSWORD).toBeUndefined();
    expect(debeziumSlotName('a.b-c'.repeat(20))).toMatch(/^outboxctl_a_b_c[a-z0-9_]*$/);
    expect(debeziumSlotName('a'.repeat(80))).toHaveLength(63);
  });
});

describe('config diff, masking, traces, validation answers', () => {
  it('per-key changes by key, secrets masked', () => {
    const changes = diffConfig({ a: '1', 'database.password': 'old', gone: 'x', same: 's' }, { a: '2', 'database.password': 'new', same: 's', added: 'y' });
    expect(changes.map(formatChange)).toEqual(['~ a: 1 → 2', '+ added: y', '~ database.password: **** → ****', '- gone: x']);
    expect(diffConfig({ a: '1' }, { a: '1' })).toEqual([]);
    expect(maskConfig({ 'database.password': 'p', 'api.token': 't', 'client.secret': 's', url: 'u' })).toEqual({
      'database.password': '****',
      'api.token': '****',
      'client.secret': '****',
      url: 'u',
    });
  });

  it('the root cause of a trace is its last "Caused by:" line, else its first line', () => {
    const trace =
      'org.apache.kafka.connect.errors.ConnectException: boom\n\tat x.y(Z.java:1)\nCaused by: java.io.IOException: inner\n\tat a\nCaused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "debezium"\n\tat b';
    expect(rootCause(trace)).toBe('org.postgresql.util.PSQLException: FATAL: password authentication failed for user "debezium"');
    expect(rootCause('java.lang.IllegalStateException: only line.\n\tat q')).toBe('java.lang.IllegalStateException: only line');
    expect(rootCause(undefined)).toBeUndefined();
  });

  it("field errors without Connect's prefix; plugins by class or alias", () => {
    const errors = fieldErrors({
      name: 'X',
      error_count: 2,
      groups: [],
      configs: [
        { value: { name: 'plugin.name', value: 'nope', errors: ["The 'plugin.name' value is invalid: Value must be one of decoderbufs, pgoutput"] } },
        { value: { name: 'name', value: null, errors: ['Missing required configuration "name" which has no default value.'] } },
        { value: null },
        { value: { name: 'ok', value: '1', errors: [] } },
      ],
    });
    expect(errors).toEqual([
      { field: 'plugin.name', message: 'Value must be one of decoderbufs, pgoutput' },
      { field: 'name', message: 'Missing required configuration "name" which has no default value' },
    ]);
    const plugins = [{ class: 'io.debezium.connector.postgresql.PostgresConnector', type: 'source', version: '3.6.1.Final' }];
    expect(findPlugin('PostgresConnector', plugins)).toBe(plugins[0]);
    expect(findPlugin('Postgres', plugins)).toBe(plugins[0]);
    expect(findPlugin('io.confluent.connect.elasticsearch.ElasticsearchSinkConnector', plugins)).toBeUndefined();
  });
});

describe('waiting for a state (fake clock, fake client)', () => {
  const status = (connector: string, ...tasks: string[]): ConnectorStatus => ({
    name: 'c',
    connector: { state: connector, worker_id: 'w' },
    tasks: tasks.map((state, id) => ({
      id,
      state,
      worker_id: 'w',
      ...(state === 'FAILED' ? { trace: 'E: top\nCaused by: java.net.ConnectException: Connection refused' } : {}),
    })),
  });
  const fake = (answers: (ConnectorStatus | undefined)[]) => {
    let clock = 0;
    const client = { status: async () => (answers.length > 1 ? answers.shift() : answers[0]) } as unknown as ConnectClient;
    return {
      client,
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
    };
  };

  it('RUNNING must hold for the settle time; progress is reported once per change', async () => {
    const { client, now, sleep } = fake([undefined, status('RUNNING', 'UNASSIGNED'), status('RUNNING', 'RUNNING')]);
    const seen: string[] = [];
    const result = await waitForState(client, 'c', 'RUNNING', { timeoutMs: 10_000, settleMs: 1_000, now, sleep, onProgress: (s) => seen.push(s) });
    expect(result.tasks[0]!.state).toBe('RUNNING');
    expect(seen).toEqual(['not known to Connect yet', 'connector RUNNING, task 0 UNASSIGNED', 'connector RUNNING, task 0 RUNNING']);
  });

  it('a FAILED task ends the wait with its root cause; a timeout says what was last seen', async () => {
    const failed = fake([status('RUNNING', 'FAILED')]);
    await expect(waitForState(failed.client, 'c', 'RUNNING', { timeoutMs: 10_000, ...failed })).rejects.toThrow(
      'Task 0 of connector "c" failed: java.net.ConnectException: Connection refused.',
    );
    const stuck = fake([status('RUNNING', 'UNASSIGNED')]);
    await expect(waitForState(stuck.client, 'c', 'RUNNING', { timeoutMs: 3_000, ...stuck })).rejects.toThrow(
      'Connector "c" did not reach RUNNING within 3s (last: connector RUNNING, task 0 UNASSIGNED).',
    );
    const paused = fake([status('PAUSED', 'PAUSED')]);
    expect((await waitForState(paused.client, 'c', 'RUNNING', { timeoutMs: 3_000, ...paused })).connector.state).toBe('PAUSED');
  });

  it('after a resume, the PAUSED that Connect still reports is not the outcome', async () => {
    const resumed = fake([status('PAUSED', 'PAUSED'), status('RUNNING', 'PAUSED'), status('RUNNING', 'RUNNING')]);
    expect((await waitForState(resumed.client, 'c', 'RUNNING', { timeoutMs: 10_000, pausedIsFinal: false, ...resumed })).tasks[0]!.state).toBe('RUNNING');
  });
});
