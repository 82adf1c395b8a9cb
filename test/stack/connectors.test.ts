import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { connectorAnswers } from '../helpers/least-privilege.js';
import { stackState } from '../helpers/state.js';

/**
 * `outboxctl connectors …` against the stack's real Kafka Connect 4.3.1 with Debezium 3.6.1,
 * PostgreSQL 17 and the tracking server: the shipped Debezium file really moves outbox rows
 * into `parcel.outbox`.
 */
let home: string;
let state: { endpoints: { kafka: string; database: string; connect: string }; secrets: { debeziumPassword: string } };
const outboxctl = (args: string[]) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT });
const DBZ_FILE = 'kafka-connectors/dbz-source-connector.json';
const NAME = 'parcel-outbox-source';

interface StatusJson {
  name: string;
  state: string;
  workerId: string;
  tasks: { id: number; state: string; workerId: string; trace: string | null }[];
  config: Record<string, string>;
}

const statusJson = async (): Promise<StatusJson> => {
  const r = await outboxctl(['connectors', 'status', NAME, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
};
const listNames = async (): Promise<string[]> => {
  const r = await outboxctl(['connectors', 'list', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { connectors: { name: string }[] }).connectors.map((c) => c.name);
};

/** The end offset of Connect's config topic: every PUT of a config adds a record there. */
async function configTopicEnd(): Promise<string> {
  const { kafkaClient } = await import('../../src/clients/kafka.js');
  const admin = kafkaClient(state.endpoints.kafka).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets('_connect-configs');
    return offsets.map((o) => o.high).join(',');
  } finally {
    await admin.disconnect();
  }
}

/** The pid of the walsender serving the connector's slot (null while no task reads it). */
async function slotPid(): Promise<number | null> {
  const { withPg } = await import('../../src/clients/pg.js');
  return withPg(state.endpoints.database, async (client) => {
    const { rows } = await client.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [
      'outboxctl_default',
    ]);
    return rows[0]?.active_pid ?? null;
  });
}

async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('connectors register / list / status / restart / pause / resume / delete', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-connectors-'));
    const up = await outboxctl(['up', '--services', 'connect,tracking']);
    expect(up.exitCode, up.stderr).toBe(0);
    const read = await stackState(home);
    state = { endpoints: read.endpoints as typeof state.endpoints, secrets: read.secrets as typeof state.secrets };
    // Auto-creation is off: the outbox topic and Debezium's heartbeat topic exist before the connector runs.
    for (const topic of ['parcel.outbox', '__debezium-heartbeat.outboxctl']) {
      const r = await outboxctl(['topic', 'create', topic, '--if-not-exists']);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    // The tests register the source themselves, on a Connect without connectors.
    const cleared = await outboxctl(['connectors', 'delete', NAME, '--if-exists']);
    expect(cleared.exitCode, cleared.stderr).toBe(0);
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
    await rm(home, { recursive: true, force: true });
  });

  it('a copy with plugin.name "nope" prints that field\'s error and exits 1, creating nothing', async () => {
    const file = JSON.parse(await readFile(path.join(ROOT, DBZ_FILE), 'utf8')) as { config: Record<string, string> };
    file.config['plugin.name'] = 'nope';
    const bad = path.join(home, 'bad-plugin-name.json');
    await writeFile(bad, JSON.stringify(file, null, 2));

    const r = await outboxctl(['connectors', 'register', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error: Kafka Connect rejected plugin.name of "${NAME}" (${bad}); nothing was registered.`);
    expect(r.stderr.split('\n')).toContain('  plugin.name: Value must be one of decoderbufs, pgoutput');
    expect(await listNames()).toEqual([]);

    const validate = await outboxctl(['connectors', 'validate', bad]);
    expect(validate.exitCode).toBe(1);
    expect(validate.stdout.split('\n')).toContain('  plugin.name: Value must be one of decoderbufs, pgoutput');
    const valid = await outboxctl(['connectors', 'validate', DBZ_FILE, '--json']);
    expect(valid.exitCode, valid.stderr).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ name: NAME, valid: true, errors: [] });
  });

  it('a plugin that is not installed (the Elasticsearch sink) names the installed ones and exits 1', async () => {
    const r = await outboxctl(['connectors', 'register', 'kafka-connectors/es-sink-connector.json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `error: Cannot register "elasticsearch-sink" (kafka-connectors/es-sink-connector.json): its plugin io.confluent.connect.elasticsearch.ElasticsearchSinkConnector is not installed on Kafka Connect at ${state.endpoints.connect} (installed: io.debezium.connector.postgresql.PostgresConnector).`,
    );
    expect(await listNames()).toEqual([]);
    const plugins = await outboxctl(['connectors', 'plugins']);
    expect(plugins.stdout).toMatch(/^io\.debezium\.connector\.postgresql\.PostgresConnector\s+source\s+3\.6\.1\.Final$/m);
  });

  it('registers the shipped Debezium file; it reaches RUNNING and the password is masked', async () => {
    const r = await outboxctl(['connectors', 'register', DBZ_FILE]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${NAME}: created from ${DBZ_FILE} (RUNNING, 1 task)`);
    expect(r.stderr).toContain(`${NAME}: connector RUNNING, task 0 RUNNING`);

    const status = await statusJson();
    expect(status.state).toBe('RUNNING');
    expect(status.tasks.map((t) => t.state)).toEqual(['RUNNING']);
    expect(status.config['database.password']).toBe('****');
    expect(status.config['database.hostname']).toBe(new URL(state.endpoints.database).hostname);
    expect(status.config['slot.name']).toBe('outboxctl_default');
    const text = await outboxctl(['connectors', 'status', NAME]);
    expect(text.stdout).toMatch(/^database\.password\s+\*\*\*\*$/m);
    for (const out of [JSON.stringify(status), text.stdout]) expect(out).not.toContain(state.secrets.debeziumPassword);
  });

  it("the password is in none of Connect's REST answers nor in any record of its config topic: the worker reads it from a 0600 file", async () => {
    const password = state.secrets.debeziumPassword;
    expect(password.length).toBeGreaterThan(10);
    const secrets = path.join(home, 'stacks', 'default', 'secrets');
    const reference = `\${file:${secrets}/debezium.properties:password}`;
    const answers = await connectorAnswers(state.endpoints.connect!, NAME);
    for (const [what, body] of Object.entries(answers)) expect(body, what).not.toContain(password);
    // What Connect keeps is the reference, in the connector's and in the task's config.
    expect((JSON.parse(answers.config) as Record<string, string>)['database.password']).toBe(reference);
    expect((JSON.parse(answers.tasks) as { config: Record<string, string> }[])[0]!.config['database.password']).toBe(reference);
    const topic = await execa('kcat', ['-C', '-b', state.endpoints.kafka, '-t', '_connect-configs', '-e', '-q'], { reject: false });
    expect(topic.exitCode, topic.stderr).toBe(0);
    // The records are there (connector and task configs, with the reference), and none holds the password.
    expect(topic.stdout).toContain(`"database.password":"${reference}"`);
    expect(topic.stdout).not.toContain(password);
    // The file: only this user may read it (Connect runs as this user), in a 0700 directory.
    expect((await stat(secrets)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(secrets, 'debezium.properties'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(secrets, 'debezium.properties'), 'utf8')).toContain(`password=${password}\n`);
    // The worker may read no file outside that directory.
    const worker = await readFile(path.join(home, 'stacks', 'default', 'config', 'connect', 'worker.properties'), 'utf8');
    expect(worker).toContain(`config.providers.file.param.allowed.paths=${secrets}\n`);
  });

  it("the connector really produces: a parcel's event on parcel.outbox, keyed by the parcel id", async () => {
    const created = await outboxctl(['parcel', 'create', '--contents', 'Kotlin is cool', '--json']);
    expect(created.exitCode, created.stderr).toBe(0);
    const parcelId = (JSON.parse(created.stdout) as { id: string }).id;
    const { withPg } = await import('../../src/clients/pg.js');
    const eventId = await withPg(
      state.endpoints.database,
      async (c) => (await c.query<{ id: string }>('SELECT id FROM outbox WHERE aggregateid = $1', [parcelId])).rows[0]!.id,
    );

    const { kafkaClient } = await import('../../src/clients/kafka.js');
    const consumer = kafkaClient(state.endpoints.kafka).consumer({ groupId: `connectors-test-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'parcel.outbox', fromBeginning: true });
    const record = await new Promise<{ key: string; headers: Record<string, unknown>; value: Record<string, unknown> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record on parcel.outbox within 30s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== parcelId) return;
          clearTimeout(timer);
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()]));
          resolve({ key: message.key.toString(), headers, value: JSON.parse(message.value!.toString()) as Record<string, unknown> });
        },
      });
    }).finally(() => consumer.disconnect());

    expect(record.key).toBe(parcelId);
    expect(record.headers.id).toBe(eventId);
    expect(record.value).toMatchObject({ eventId, eventType: 'ParcelCreated', aggregateType: 'parcel', aggregateId: parcelId });
    expect(typeof record.value.occurredAt).toBe('number');
    expect(record.value.payload).toMatchObject({ parcel: { id: parcelId, contents: 'Kotlin is cool', status: 'registered' }, changed: ['contents', 'status'] });
  });

  it('re-registering an unchanged config sends no PUT; --diff shows a change and makes none', async () => {
    const before = await statusJson();
    const end = await configTopicEnd();
    // No files: every file of kafka-connectors/; the sink, whose plugin is missing, is skipped.
    const again = await outboxctl(['connectors', 'register']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout.split('\n')).toContain(`${NAME}: config unchanged, nothing sent (RUNNING, 1 task)`);
    expect(again.stdout).toContain('elasticsearch-sink: skipped');
    expect(again.stderr).toContain('warning: skipped "elasticsearch-sink"');
    expect(await configTopicEnd()).toBe(end);
    expect((await statusJson()).config).toEqual(before.config);

    const file = JSON.parse(await readFile(path.join(ROOT, DBZ_FILE), 'utf8')) as { config: Record<string, string> };
    file.config['heartbeat.interval.ms'] = '5000';
    file.config['provide.transaction.metadata'] = 'false';
    delete file.config['tombstones.on.delete'];
    const changed = path.join(home, 'changed.json');
    await writeFile(changed, JSON.stringify(file));
    const diff = await outboxctl(['connectors', 'register', changed, '--diff']);
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout.split('\n')).toEqual([
      `${NAME}: would be updated from ${changed}`,
      '  ~ heartbeat.interval.ms: 10000 → 5000',
      '  + provide.transaction.metadata: false',
      '  - tombstones.on.delete: false',
    ]);
    expect(await configTopicEnd()).toBe(end);
    expect((await statusJson()).config['heartbeat.interval.ms']).toBe('10000');
  });

  it('restart --include-tasks, pause, resume and delete change what Connect reports', async () => {
    const pid = await slotPid();
    expect(pid).not.toBeNull();
    const restarted = await outboxctl(['connectors', 'restart', NAME, '--include-tasks', '--json']);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    const answer = JSON.parse(restarted.stdout) as { response: { connector: { state: string }; tasks: { state: string }[] }; state: string };
    expect(answer.response.connector.state).toBe('RESTARTING');
    expect(answer.response.tasks.map((t) => t.state)).toEqual(['RESTARTING']);
    expect(answer.state).toBe('RUNNING');
    // The restarted task reads the slot through a new replication connection.
    const newPid = await eventually(slotPid, (p) => p !== null && p !== pid);
    expect(newPid).not.toBeNull();
    expect(newPid).not.toBe(pid);

    const paused = await outboxctl(['connectors', 'pause', NAME]);
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect(paused.stdout.trim()).toBe(`Paused ${NAME} (PAUSED, 1 task).`);
    const whilePaused = await statusJson();
    expect([whilePaused.state, ...whilePaused.tasks.map((t) => t.state)]).toEqual(['PAUSED', 'PAUSED']);
    const listed = await outboxctl(['connectors', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${NAME}\\s+source\\s+PAUSED\\s+0:PAUSED\\s+io\\.debezium`, 'm'));

    const resumed = await outboxctl(['connectors', 'resume', NAME]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stdout.trim()).toBe(`Resumed ${NAME} (RUNNING, 1 task).`);
    const running = await statusJson();
    expect([running.state, ...running.tasks.map((t) => t.state)]).toEqual(['RUNNING', 'RUNNING']);

    const offsets = await outboxctl(['connectors', 'offsets', NAME, '--json']);
    expect(offsets.exitCode, offsets.stderr).toBe(0);
    expect((JSON.parse(offsets.stdout) as { offsets: { partition: unknown }[] }).offsets[0]?.partition).toEqual({ server: 'outboxctl' });

    const refused = await outboxctl(['connectors', 'delete', NAME, 'ghost']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.split('\n')[0]).toBe(`error: Connector "ghost" does not exist on Kafka Connect at ${state.endpoints.connect}; nothing was deleted.`);
    expect(await listNames()).toEqual([NAME]);
    const deleted = await outboxctl(['connectors', 'delete', NAME, 'ghost', '--if-exists', '--json']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: [NAME] });
    expect(await listNames()).toEqual([]);
    const gone = await outboxctl(['connectors', 'status', NAME]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr.split('\n')[0]).toBe(`error: Connector "${NAME}" does not exist on Kafka Connect at ${state.endpoints.connect}.`);
  });

  it('an unreachable Connect is one sentence naming the URL, exit 1', async () => {
    const r = await outboxctl(['connectors', 'list', '--connect-url', 'http://127.0.0.1:1']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('error: Cannot reach Kafka Connect at http://127.0.0.1:1: connection refused.');
  });
});
