import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPg } from '../../src/clients/pg.js';
import { SearchClient } from '../../src/clients/search.js';
import { DEBEZIUM_ROLE, ensureDebeziumRole, postgresComponent } from '../../src/stack/components/postgres.js';
import { freePort } from '../../src/stack/ports.js';
import { DLQ_TOPIC, OUTBOX_TOPIC, SOURCE_FILE } from '../../src/stack/tasks.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { type AuthConnect, startAuthConnect } from '../helpers/secure-connect.js';
import { type SecureKafka, startSecureKafka } from '../helpers/secure-kafka.js';
import { type SslPostgres, startSslPostgres } from '../helpers/ssl-postgres.js';
import { startTlsSearchProxy, type TlsProxy } from '../helpers/tls-search-proxy.js';

// Issue 16's acceptance on a deployed pipeline reached only through a context: a 3-broker SASL_SSL
// (SCRAM-SHA-512) Kafka, a Connect worker with basic auth talking SASL_SSL to it with Debezium,
// PostgreSQL with ssl=on (verify-full), a real Elasticsearch behind an nginx TLS proxy with basic
// auth, and outboxctl's tracking, sink and auditing servers started with `--context`. Every client
// command runs with an OUTBOXCTL_HOME that stays empty: nothing of a local stack is read or written.

const CONTEXT = 'secure';
const WRONG_KAFKA = 'secure-wrong-kafka';
const SINK_GROUP = 'connect-elasticsearch-sink';
const CONNECTOR = 'parcel-outbox-source';

/** The variables the contexts' secret references name (never the secrets themselves). */
const SECRETS = {
  kafka: 'PIPELINE_KAFKA_PASSWORD',
  badKafka: 'PIPELINE_WRONG_KAFKA_PASSWORD',
  connect: 'PIPELINE_CONNECT_PASSWORD',
  elasticsearch: 'PIPELINE_ES_PASSWORD',
  database: 'PIPELINE_PG_PASSWORD',
  tracking: 'PIPELINE_TRACKING_TOKEN',
  auditing: 'PIPELINE_AUDITING_TOKEN',
  debezium: 'PIPELINE_DEBEZIUM_PASSWORD',
} as const;

const CONNECT_USER = 'connect-admin';
const CONNECT_PASSWORD = `connect-${randomBytes(6).toString('hex')}`;
const TOKEN = `pipeline-${randomBytes(12).toString('hex')}`;
const DEBEZIUM_PASSWORD = `dbz-${randomBytes(6).toString('hex')}`;

let dir: string;
/** The client commands' home: empty before, empty after. */
let clientHome: string;
/** The servers' home (the sink keeps its group member id there) and the Elasticsearch stack's. */
let serverHome: string;
let esHome: string;
let configHome: string;
let certs: TestCertificates;
let kafka: SecureKafka;
let connect: AuthConnect;
let postgres: SslPostgres;
let proxy: TlsProxy;
let search: SearchClient;
const servers: { name: string; process: ResultPromise; output: () => string }[] = [];
let trackingUrl: string;
let auditingUrl: string;

/** What this machine's environment must not add: endpoint variables would override the context. */
const ENDPOINT_VARS = [
  'DATABASE_URL',
  'KAFKA_BOOTSTRAP_SERVERS',
  'KAFKA_CONNECT_URL',
  'ELASTICSEARCH_URL',
  'TRACKING_URL',
  'AUDITING_URL',
  'OUTBOXCTL_TOKEN',
  'OUTBOXCTL_CONTEXT',
  'NODE_EXTRA_CA_CERTS',
];

/** The environment of every outboxctl process here: the secrets the references name, the config directory, `home`. */
function envFor(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !ENDPOINT_VARS.includes(k)));
  return {
    ...base,
    NO_COLOR: '1',
    OUTBOXCTL_HOME: home,
    XDG_CONFIG_HOME: configHome,
    [SECRETS.kafka]: kafka.password,
    [SECRETS.badKafka]: 'not-the-password',
    [SECRETS.connect]: CONNECT_PASSWORD,
    [SECRETS.elasticsearch]: proxy.password,
    [SECRETS.database]: postgres.role.password,
    [SECRETS.tracking]: TOKEN,
    [SECRETS.auditing]: TOKEN,
    [SECRETS.debezium]: DEBEZIUM_PASSWORD,
    ...extra,
  };
}

/** outboxctl as a machine that knows the pipeline only through the context (the empty home). */
async function run(args: string[], extra: Record<string, string> = {}) {
  const r = await execa(BIN, args, { env: envFor(clientHome, extra), extendEnv: false, reject: false, cwd: ROOT });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `run` that must exit 0; its JSON document. */
async function json<T>(args: string[]): Promise<T> {
  const r = await run([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** Polls until `check` gives a value (the test's timeout bounds it; the last error goes into the failure). */
async function until<T>(what: string, check: () => Promise<T | undefined>, attempts = 180): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(500);
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** `outboxctl --context X serve NAME …` as its own process; resolves with the URL it prints once listening. */
async function serve(name: 'tracking' | 'sink' | 'auditing', args: string[]): Promise<string> {
  const child = execa(BIN, ['--context', CONTEXT, 'serve', name, ...args], {
    env: envFor(serverHome),
    extendEnv: false,
    reject: false,
    cwd: ROOT,
    buffer: false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => (stdout += c));
  child.stderr?.on('data', (c) => (stderr += c));
  servers.push({ name, process: child, output: () => `${stdout}${stderr}` });
  let exited = false;
  void child.then(() => (exited = true));
  return until(
    `serve ${name} to listen`,
    async () => {
      if (exited) throw new Error(`serve ${name} exited: ${stderr.trim()}`);
      return stdout.match(/^(https?:\/\/\S+)$/m)?.[1];
    },
    480,
  );
}

/** The packaged Debezium source file, reaching the ssl PostgreSQL with verify-full; its address from the context. */
async function writeSourceFile(file: string): Promise<void> {
  const spec = JSON.parse(await readFile(path.join(ROOT, 'kafka-connectors', SOURCE_FILE), 'utf8')) as { name: string; config: Record<string, string> };
  // ${POSTGRES_HOST}, ${POSTGRES_PORT}, ${POSTGRES_DB} stay: `connectors register` fills them from the context's database URL.
  spec.config['database.password'] = `\${${SECRETS.debezium}}`;
  spec.config['database.sslmode'] = 'verify-full';
  spec.config['database.sslrootcert'] = certs.caCert;
  await writeFile(file, `${JSON.stringify(spec, null, 2)}\n`);
}

/** Debezium's heartbeat topic as the packaged file names it: `<topic.heartbeat.prefix>.<topic.prefix>`. */
async function heartbeatTopic(): Promise<string> {
  const { config } = JSON.parse(await readFile(path.join(ROOT, 'kafka-connectors', SOURCE_FILE), 'utf8')) as { config: Record<string, string> };
  return `${config['topic.heartbeat.prefix'] ?? '__debezium-heartbeat'}.${config['topic.prefix']}`;
}

/** The context's flags; `kafkaPassword` names the variable the Kafka password is read from. */
function contextFlags(kafkaPassword: string): string[] {
  return [
    '--bootstrap-server',
    kafka.saslSsl,
    '--kafka-ca',
    kafka.certs.caCert,
    '--kafka-sasl-mechanism',
    'scram-sha-512',
    '--kafka-username',
    kafka.username,
    '--kafka-password',
    `env:${kafkaPassword}`,
    '--connect-url',
    connect.url,
    '--connect-username',
    CONNECT_USER,
    '--connect-password',
    `env:${SECRETS.connect}`,
    '--elasticsearch-url',
    proxy.url,
    '--elasticsearch-username',
    proxy.username,
    '--elasticsearch-password',
    `env:${SECRETS.elasticsearch}`,
    '--elasticsearch-ca',
    certs.caCert,
    '--database-url',
    postgres.url({ password: '', params: { sslmode: 'verify-full', sslrootcert: certs.caCert } }),
    '--database-password',
    `env:${SECRETS.database}`,
    '--tracking-url',
    trackingUrl,
    '--tracking-token',
    `env:${SECRETS.tracking}`,
    '--auditing-url',
    auditingUrl,
    '--auditing-token',
    `env:${SECRETS.auditing}`,
  ];
}

/** The Elasticsearch stack (its own home) behind the TLS proxy. */
async function startSearch(): Promise<TlsProxy> {
  const env = { ...process.env, OUTBOXCTL_HOME: esHome, NO_COLOR: '1' };
  // Other suites start services too: a port taken while ours started asks for another `up` (it picks a free one).
  for (let attempt = 1; ; attempt++) {
    const up = await execa(BIN, ['up', '--services', 'elasticsearch'], { env, reject: false, cwd: ROOT });
    if (up.exitCode === 0) break;
    if (attempt === 3 || !/was taken by another process/.test(up.stderr)) throw new Error(`up --services elasticsearch failed:\n${up.stderr}`);
  }
  const status = await execa(BIN, ['status', '--json'], { env, cwd: ROOT });
  const upstream = (JSON.parse(status.stdout) as { endpoints: Record<string, string> }).endpoints.elasticsearch!;
  return startTlsSearchProxy({ dir: path.join(dir, 'proxy'), upstream, certs });
}

/** The cluster, then Connect joining it over SASL_SSL. */
async function startKafkaAndConnect(): Promise<void> {
  const cluster = await startSecureKafka({ dir: path.join(dir, 'kafka') });
  kafka = cluster;
  connect = await startAuthConnect({
    dir: path.join(dir, 'connect'),
    bootstrap: cluster.saslSsl,
    username: CONNECT_USER,
    password: CONNECT_PASSWORD,
    // The brokers want two in-sync replicas: the worker's own topics need three.
    replicationFactor: 3,
    clientProperties: {
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${cluster.username}" password="${cluster.password}";`,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': cluster.certs.caCert,
    },
  });
}

/** The client home's entries: none, as long as nothing of a local stack was written. */
const clientHomeEntries = () => readdir(clientHome);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-secure-pipeline-'));
  clientHome = path.join(dir, 'client-home');
  serverHome = path.join(dir, 'server-home');
  esHome = path.join(dir, 'es-home');
  configHome = path.join(dir, 'config');
  await Promise.all([clientHome, serverHome, esHome, configHome].map((d) => mkdir(d, { recursive: true })));
  certs = await makeTestCertificates(path.join(dir, 'certs'));

  // The slow parts side by side: three brokers then Connect, Elasticsearch then its proxy, PostgreSQL.
  // All settled before a failure is thrown, so afterAll stops whatever did start.
  const started = await Promise.allSettled([
    startKafkaAndConnect(),
    startSearch().then((p) => (proxy = p)),
    startSslPostgres({ dir: path.join(dir, 'postgres'), certs, settings: postgresComponent.settings }).then((p) => (postgres = p)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  search = await SearchClient.connect(proxy.target, { deadlineMs: 30_000 });

  trackingUrl = `http://127.0.0.1:${await freePort()}`;
  auditingUrl = `http://127.0.0.1:${await freePort()}`;
  for (const [name, password] of [
    [CONTEXT, SECRETS.kafka],
    [WRONG_KAFKA, SECRETS.badKafka],
  ] as const) {
    const created = await run(['context', 'create', name, ...contextFlags(password)]);
    expect(created.code, created.stderr).toBe(0);
  }

  // The deployment's one-time steps, through the context: schema, Debezium's role, topics, the source connector.
  const migrated = await run(['--context', CONTEXT, 'db', 'migrate']);
  expect(migrated.code, migrated.stderr).toBe(0);
  // Creating a REPLICATION role takes the superuser (a DBA's step on a real cluster); after the migrations, so it may read their tables.
  await ensureDebeziumRole(postgres.url({ who: 'superuser', params: { sslmode: 'verify-full', sslrootcert: certs.caCert } }), DEBEZIUM_PASSWORD);
  for (const topic of [OUTBOX_TOPIC, DLQ_TOPIC, await heartbeatTopic()]) {
    const created = await run(['--context', CONTEXT, 'topic', 'create', topic, '-p', '1', '-r', '3']);
    expect(created.code, created.stderr).toBe(0);
  }
  const sourceFile = path.join(dir, 'dbz-source-ssl.json');
  await writeSourceFile(sourceFile);
  const registered = await run(['--context', CONTEXT, 'connectors', 'register', sourceFile, '--wait-timeout', '180s']);
  expect(registered.code, `${registered.stderr}\n${await connect.logTail(30)}`).toBe(0);
  expect(registered.stdout).toContain(`${CONNECTOR}: created from`);

  // The pipeline's own servers, each its own process, taking endpoints and auth from the context.
  await Promise.all([
    serve('tracking', ['--port', new URL(trackingUrl).port, '--token', TOKEN]),
    serve('sink', ['--port', '0']),
    serve('auditing', ['--port', new URL(auditingUrl).port, '--token', TOKEN]),
  ]);
}, 600_000);

afterAll(async () => {
  await Promise.all(
    servers.map(async ({ process: child }) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await child.catch(() => undefined);
      clearTimeout(timer);
    }),
  );
  await search?.close();
  await Promise.all([connect?.stop(), proxy?.stop(), postgres?.stop()]);
  await kafka?.stop();
  if (esHome) await execa(BIN, ['down', '--volumes'], { env: { ...process.env, OUTBOXCTL_HOME: esHome }, reject: false, cwd: ROOT });
  if (dir) await rm(dir, { recursive: true, force: true });
}, 180_000);

interface Parcel {
  id: string;
  status: string;
  version: number;
  contents: string;
}

interface OutboxEvent {
  eventId: string;
  eventType: string;
  aggregateId: string;
}

describe('a secure pipeline (SASL_SSL Kafka, basic-auth Connect, TLS search proxy, ssl PostgreSQL) reached only through a context', () => {
  let parcel: Parcel;
  let events: OutboxEvent[];

  it('a parcel created and updated through the context reaches parcel.outbox and the search engine', async () => {
    expect(await clientHomeEntries()).toEqual([]);
    const created = await json<Parcel>(['--context', CONTEXT, 'parcel', 'create', '--contents', 'over TLS and SASL']);
    expect(created).toMatchObject({ status: 'registered', version: 1 });
    const updated = await json<Parcel>(['--context', CONTEXT, 'parcel', 'update', created.id, '--status', 'in_transit', '--contents', 'still secure']);
    expect(updated).toMatchObject({ id: created.id, status: 'in_transit', version: 2 });
    parcel = updated;

    // Debezium (over ssl to PostgreSQL, SASL_SSL to Kafka) put both events on the topic; `-e` stops at its end.
    events = await until('both events on parcel.outbox', async () => {
      const tail = await run(['--context', CONTEXT, 'topic', 'tail', OUTBOX_TOPIC, '--from-beginning', '-e', '--unwrap']);
      expect(tail.code, tail.stderr).toBe(0);
      const mine = tail.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as OutboxEvent)
        .filter((e) => e.aggregateId === parcel.id);
      return mine.length >= 2 ? mine : undefined;
    });
    expect(events.map((e) => e.eventType)).toEqual(['ParcelCreated', 'ParcelUpdated']);

    // The sink (SASL_SSL in, the proxy's https with basic auth out) indexed both events and the projection.
    const projection = await until('the parcel projection to be updated', async () => {
      const doc = await search.get<{ status: string; contents: string }>('parcels', parcel.id);
      return doc?.status === 'in_transit' ? doc : undefined;
    });
    expect(projection.contents).toBe('still secure');
    for (const e of events) expect(await search.get('parcel.outbox', e.eventId), e.eventId).toMatchObject({ eventId: e.eventId, aggregateId: parcel.id });
    expect(await clientHomeEntries()).toEqual([]);
  });

  it('topic list, topic tail -e, group describe, connectors list and audit parcels pass through the context', async () => {
    const topics = await json<{ topics: { name: string; partitions: number; replicationFactor: number }[] }>(['--context', CONTEXT, 'topic', 'list']);
    expect(topics.topics.find((t) => t.name === OUTBOX_TOPIC)).toMatchObject({ partitions: 1, replicationFactor: 3 });
    const text = await run(['--context', CONTEXT, 'topic', 'list']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(OUTBOX_TOPIC);

    const tail = await run(['--context', CONTEXT, 'topic', 'tail', OUTBOX_TOPIC, '-e', '--from-beginning', '--unwrap', '--aggregate', parcel.id]);
    expect(tail.code, tail.stderr).toBe(0);
    const values = tail.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { eventId?: string });
    expect(values.map((v) => v.eventId)).toEqual(events.map((e) => e.eventId));

    // The sink's group, caught up: it committed past both events.
    const group = await until(
      'the sink group to have no lag',
      async () => {
        const r = await json<{ group: string; totalLag: number | string; members: unknown[]; offsets: { topic: string; lag: number | string }[] }>([
          '--context',
          CONTEXT,
          'group',
          'describe',
          SINK_GROUP,
        ]);
        return Number(r.totalLag) === 0 && r.offsets.some((o) => o.topic === OUTBOX_TOPIC) ? r : undefined;
      },
      60,
    );
    expect(group.group).toBe(SINK_GROUP);
    expect(group.members.length).toBe(1);
    const groupText = await run(['--context', CONTEXT, 'group', 'describe', SINK_GROUP]);
    expect(groupText.code, groupText.stderr).toBe(0);
    expect(groupText.stdout).toMatch(/^TOTAL LAG\s+0$/m);

    const connectors = await json<{ connectors: { name: string; state: string; tasks: { state: string }[] }[] }>(['--context', CONTEXT, 'connectors', 'list']);
    expect(connectors.connectors).toEqual([
      expect.objectContaining({ name: CONNECTOR, state: 'RUNNING', tasks: [expect.objectContaining({ state: 'RUNNING' })] }),
    ]);

    const audit = await json<{ total: number; items: Parcel[] }>(['--context', CONTEXT, 'audit', 'parcels']);
    expect(audit.items).toContainEqual(expect.objectContaining({ id: parcel.id, status: 'in_transit', version: 2, contents: 'still secure' }));
    const auditText = await run(['--context', CONTEXT, 'audit', 'parcels']);
    expect(auditText.code, auditText.stderr).toBe(0);
    expect(auditText.stdout).toContain(parcel.id);

    expect(await clientHomeEntries()).toEqual([]);
  });

  it('Debezium and the tracking server reach PostgreSQL over TLS; the servers took every setting from the context without a warning', async () => {
    // A request just before: the tracking server's pool holds its connection open while we look.
    expect((await json<Parcel>(['--context', CONTEXT, 'parcel', 'get', parcel.id])).version).toBe(2);
    const sessions = await withPg(postgres.url({ who: 'superuser', params: { sslmode: 'verify-full', sslrootcert: certs.caCert } }), async (client) => {
      const { rows } = await client.query<{ usename: string; backend_type: string; ssl: boolean }>(
        'SELECT a.usename, a.backend_type, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = ANY($1)',
        [[DEBEZIUM_ROLE, postgres.role.username]],
      );
      return rows;
    });
    // Debezium's replication stream is a walsender of its role; the tracking server's pool is the role's.
    expect(sessions).toContainEqual({ usename: DEBEZIUM_ROLE, backend_type: 'walsender', ssl: true });
    expect(sessions.some((s) => s.usename === postgres.role.username)).toBe(true);
    expect(sessions.every((s) => s.ssl)).toBe(true);
    for (const server of servers) expect(server.output(), server.name).not.toMatch(/warning/i);
    expect(servers.find((s) => s.name === 'auditing')!.output()).toContain(
      `(Elasticsearch ${proxy.url} with basic auth as ${proxy.username}, bearer token required)`,
    );
  });

  it('smoke --context passes every step, and verify --context finds the pipeline consistent', async () => {
    const smoke = await run(['smoke', '--context', CONTEXT, '--json']);
    expect(smoke.code, `${smoke.stdout}\n${smoke.stderr}`).toBe(0);
    const report = JSON.parse(smoke.stdout) as { passed: boolean; context: string; steps: { name: string; status: string }[] };
    expect(report.passed).toBe(true);
    expect(report.context).toBe(CONTEXT);
    expect(report.steps.every((s) => s.status === 'passed')).toBe(true);

    const verify = await run(['verify', '--context', CONTEXT, '--from-beginning', '--json']);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ consistent: true });
    expect(await clientHomeEntries()).toEqual([]);
  });

  it('with a wrong Kafka password, topic list is one sentence naming Kafka and SASL_SSL, exit 1', async () => {
    const r = await run(['--context', WRONG_KAFKA, 'topic', 'list']);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`error: Kafka at ${kafka.saslSsl} rejected the credentials of SASL_SSL (SCRAM-SHA-512 as ${kafka.username}): authentication failed.`);
    expect(lines[1]).toMatch(/^hint: .*--kafka-password/);
    expect(lines).toHaveLength(2);
    expect(r.stderr).not.toContain('not-the-password');
    expect(r.stdout).toBe('');
    expect(await clientHomeEntries()).toEqual([]);
  });
});
