import { existsSync } from 'node:fs';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../src/stack/runtimes/native/process.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { nativeStackState } from '../helpers/state.js';

/**
 * The native runtime on real processes: one shared stack for the lifecycle tests, run one
 * after another, plus small stacks of their own for the failure cases.
 */

const newHome = () => mkdtemp(path.join(os.tmpdir(), 'outboxctl-stack-'));

function outboxctl(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1', ...env }, reject: false, cwd: ROOT });
}

const readStateFile = nativeStackState;

/** Processes whose command line mentions this home (every service of its stacks does). */
async function processesOf(home: string): Promise<string[]> {
  const result = await execa('pgrep', ['-f', home], { reject: false });
  expect([0, 1]).toContain(result.exitCode);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .filter((pid) => Number(pid) !== process.pid);
}

/** A process that exists and is not a zombie (an exited child not yet reaped counts as gone). */
const alive = (pid: number | undefined) => isRunning(pid);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net
      .createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('a stack port held by another process', () => {
  let holder: net.Server | undefined;
  beforeAll(async () => {
    if (await portFree(8080)) {
      holder = net.createServer();
      await new Promise<void>((resolve) => holder!.listen(8080, '127.0.0.1', resolve));
    }
  });
  afterAll(() => holder?.close());

  it('with --strict-ports fails before starting anything, naming the port and its holder', async () => {
    const home = await newHome();
    const r = await outboxctl(home, ['up', '--services', 'tracking', '--strict-ports']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error: Ports? already in use: .*8080 \(tracking\)( by [^;,]+)?.*; nothing was started\./);
    if (holder) expect(r.stderr).toContain(`8080 (tracking) by node (pid ${process.pid})`);
    expect(await processesOf(home)).toEqual([]);
    expect(existsSync(path.join(home, 'stacks', 'default', 'data', 'postgres', 'PG_VERSION'))).toBe(false);
  });

  it('by default takes a free port instead and reports it', async () => {
    const home = await newHome();
    const r = await outboxctl(home, ['up', '--services', 'tracking']);
    try {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/port 8080 \(tracking\) is in use; using (\d+) instead/);
      const used = Number(/using (\d+) instead/.exec(r.stderr.split('\n').find((l) => l.includes('8080'))!)![1]);
      const state = await readStateFile(home);
      expect(state.services.tracking!.ports.main).toBe(used);
      const health = await fetch(`${state.endpoints.tracking}/health`);
      expect(health.status).toBe(200);
    } finally {
      await outboxctl(home, ['down', '--volumes']);
    }
    expect(await processesOf(home)).toEqual([]);
  });
});

describe('the shared native stack (every service so far: postgres, kafka, elasticsearch, connect, sink, tracking, auditing)', () => {
  let home: string;
  beforeAll(async () => {
    home = await newHome();
  });
  afterAll(async () => {
    await outboxctl(home, ['down', '--volumes']);
  });

  it('up from nothing brings every service to ready; real clients use them', async () => {
    const r = await outboxctl(home, ['up']);
    expect(r.exitCode, r.stderr).toBe(0);
    const state = await readStateFile(home);
    for (const s of ['postgres', 'kafka', 'elasticsearch', 'connect', 'tracking']) expect(alive(state.services[s]?.pid), s).toBe(true);

    // Kafka: a topic created on purpose, one record produced and consumed by kafkajs.
    const { kafkaClient } = await import('../../src/clients/kafka.js');
    const kafka = kafkaClient(state.endpoints.kafka!, 'stack-test');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'stack-test', numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'stack-test', messages: [{ key: 'k1', value: 'hello', headers: { id: 'e1' } }] });
    const consumer = kafka.consumer({ groupId: `stack-test-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'stack-test', fromBeginning: true });
    const received = await new Promise<{ key: string; value: string; id: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => resolve({ key: String(message.key), value: String(message.value), id: String(message.headers?.id) }),
      });
    });
    expect(received).toEqual({ key: 'k1', value: 'hello', id: 'e1' });
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
    // Auto-creation is off: a produce to an unknown topic fails instead of creating it.
    expect(await admin.listTopics()).not.toContain('never-created');
    await admin.disconnect();

    const plugins = (await (await fetch(`${state.endpoints.connect}/connector-plugins`)).json()) as { class: string }[];
    expect(plugins.map((p) => p.class)).toContain('io.debezium.connector.postgresql.PostgresConnector');

    const created = await outboxctl(home, ['parcel', 'create', '--contents', 'Kotlin is cool', '--json']);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ contents: 'Kotlin is cool', version: 1 });

    // The debezium role: LOGIN REPLICATION, its generated password in the state file only.
    const { secrets } = await nativeStackState(home);
    expect(secrets.debeziumPassword).toMatch(/^[\w-]{20,}$/);
    expect(r.stdout + r.stderr).not.toContain(secrets.debeziumPassword);
    expect(r.stdout + r.stderr).not.toContain(secrets.postgresPassword);
    const dbUrl = new URL(state.endpoints.database!);
    dbUrl.username = 'debezium';
    dbUrl.password = secrets.debeziumPassword!;
    const { query } = await import('../helpers/db.js');
    expect(await query(dbUrl.toString(), "SELECT rolreplication, rolcanlogin FROM pg_roles WHERE rolname = 'debezium'")).toEqual([
      { rolreplication: true, rolcanlogin: true },
    ]);
    expect(await query(dbUrl.toString(), 'SELECT count(*)::int AS n FROM outbox')).toEqual([{ n: 1 }]);

    // Every JVM runs with an explicit heap.
    const cmdline = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(await cmdline(state.services.kafka!.pid!)).toContain('-Xmx512m');
    expect(await cmdline(state.services.connect!.pid!)).toContain('-Xmx768m');

    const status = await outboxctl(home, ['status', '--json', '--check']);
    expect(status.exitCode).toBe(0);
    const doc = JSON.parse(status.stdout) as { schemaVersion: number; services: { name: string; state: string }[] };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.services.map((s) => [s.name, s.state])).toEqual([
      ['postgres', 'ready'],
      ['kafka', 'ready'],
      ['elasticsearch', 'ready'],
      ['connect', 'ready'],
      ['sink', 'ready'],
      ['tracking', 'ready'],
      ['auditing', 'ready'],
    ]);
    const health = (await (await fetch(`${state.endpoints.elasticsearch}/_cluster/health`)).json()) as { status: string };
    expect(['green', 'yellow']).toContain(health.status);
  });

  it('a second up is a no-op', async () => {
    const before = await readStateFile(home);
    const r = await outboxctl(home, ['up', '--services', 'postgres,kafka,connect,tracking', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { alreadyReady: boolean; started: unknown[] };
    expect(doc).toMatchObject({ alreadyReady: true, started: [] });
    const text = await outboxctl(home, ['up']);
    expect(text.stdout).toContain('is already up');
    const after = await readStateFile(home);
    expect(Object.fromEntries(Object.entries(after.services).map(([k, v]) => [k, v.pid]))).toEqual(
      Object.fromEntries(Object.entries(before.services).map(([k, v]) => [k, v.pid])),
    );
  });

  it('after kill -9 of the Connect JVM, up restarts only connect', async () => {
    const before = await readStateFile(home);
    process.kill(before.services.connect!.pid!, 'SIGKILL');
    while (alive(before.services.connect!.pid)) await sleep(100);
    const check = await outboxctl(home, ['status', '--check']);
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toMatch(/connect\s+crashed/);
    const r = await outboxctl(home, ['up', '--services', 'postgres,kafka,connect,tracking']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('▸ start connect');
    expect(r.stderr).not.toContain('▸ start kafka');
    // The artifacts are cached: a second up resolves nothing.
    expect(r.stderr).not.toContain('resolving');
    const fetched = JSON.parse((await outboxctl(home, ['fetch', '--json'])).stdout) as { artifacts: { id: string; dir: string }[] };
    expect(fetched.artifacts.map((a) => a.id)).toEqual(['kafka-4.3.1', 'kafka-tools-4.3.1', 'elasticsearch-7.10.2', 'debezium-connector-postgres-3.6.1.Final']);
    for (const a of fetched.artifacts) expect(existsSync(path.join(a.dir, 'libs'))).toBe(true);
    const after = await readStateFile(home);
    expect(after.services.connect!.pid).not.toBe(before.services.connect!.pid);
    for (const s of ['postgres', 'kafka', 'elasticsearch', 'tracking']) expect(after.services[s]!.pid, s).toBe(before.services[s]!.pid);
  });

  it('restart kafka and stop tracking do what they say', async () => {
    const before = await readStateFile(home);
    const restarted = await outboxctl(home, ['restart', 'kafka']);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    const mid = await readStateFile(home);
    expect(alive(before.services.kafka!.pid)).toBe(false);
    expect(alive(mid.services.kafka!.pid)).toBe(true);
    expect(mid.services.kafka!.ports.main).toBe(before.services.kafka!.ports.main);

    const stopped = await outboxctl(home, ['stop', 'tracking']);
    expect(stopped.exitCode).toBe(0);
    expect(alive(before.services.tracking!.pid)).toBe(false);
    expect(await portFree(before.services.tracking!.ports.main!)).toBe(true);
    const status = JSON.parse((await outboxctl(home, ['status', '--json'])).stdout) as { services: { name: string; state: string }[] };
    expect(status.services.find((s) => s.name === 'tracking')!.state).toBe('stopped');
    expect(status.services.find((s) => s.name === 'kafka')!.state).toBe('ready');

    const logs = await outboxctl(home, ['logs', 'kafka', '--tail', '5']);
    expect(logs.stdout.trim().split('\n')).toHaveLength(5);
    const all = await outboxctl(home, ['logs', '--tail', '1']);
    expect(all.stdout).toMatch(/^postgres +\| /m);
    expect(all.stdout).toMatch(/^kafka +\| /m);
  });

  it('down leaves no process alive and frees every port; down --volumes removes the data', async () => {
    const state = await readStateFile(home);
    const pids = Object.values(state.services)
      .map((s) => s.pid)
      .filter((p): p is number => Boolean(p));
    const ports = Object.values(state.services).flatMap((s) => Object.values(s.ports));
    const r = await outboxctl(home, ['down']);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(await processesOf(home)).toEqual([]);
    for (const port of ports) expect(await portFree(port), `port ${port}`).toBe(true);
    expect(existsSync(path.join(home, 'stacks', 'default', 'data', 'postgres'))).toBe(true);

    // down --volumes drops the stack's replication slots before deleting the data.
    expect((await outboxctl(home, ['up', '--services', 'postgres'])).exitCode).toBe(0);
    const { query } = await import('../helpers/db.js');
    const db = (await readStateFile(home)).endpoints.database!;
    await query(db, "SELECT pg_create_logical_replication_slot('outboxctl_test_slot', 'pgoutput')");
    const v = await outboxctl(home, ['down', '--volumes']);
    expect(v.exitCode, v.stderr).toBe(0);
    // Debezium's own slot (created when up registered the source) goes too.
    expect(v.stdout).toContain('dropped replication slots outboxctl_default, outboxctl_test_slot');
    expect(existsSync(path.join(home, 'stacks', 'default', 'data'))).toBe(false);
  });
});

describe('failures leave nothing running', () => {
  it('a service that cannot become ready: exit 1 within its timeout, with service, probe and log tail', async () => {
    const home = await newHome();
    const begin = Date.now();
    const r = await outboxctl(home, ['up', '--services', 'connect', '--wait-timeout', '20s'], {
      OUTBOXCTL_CONNECT_EXTRA_CONFIG: 'plugin.path=/nonexistent/plugins',
    });
    expect(r.exitCode).toBe(1);
    // Within its timeout: Kafka's start, Connect's 20 s, the stopping; not minutes.
    expect(Date.now() - begin).toBeLessThan(120_000);
    expect(r.stderr).toMatch(
      /Service connect not ready after 2\ds: GET \/connector-plugins lists io\.debezium\.connector\.postgresql\.PostgresConnector did not pass/,
    );
    expect(r.stderr).toContain('last lines of');
    expect(r.stderr).toMatch(/INFO|WARN/);
    expect(await processesOf(home)).toEqual([]);
    const state = await readStateFile(home);
    expect(Object.values(state.services).filter((s) => s.pid)).toEqual([]);
  });

  it('SIGINT while up waits for Kafka: exit 130, no process left', async () => {
    const home = await newHome();
    const run = outboxctl(home, ['up', '--services', 'kafka']);
    await new Promise<void>((resolve) => {
      let seen = '';
      run.stderr!.on('data', (chunk: Buffer) => {
        seen += String(chunk);
        if (seen.includes('▸ start kafka')) resolve();
      });
    });
    // Wait until the Kafka JVM really runs (its storage is formatted first), then interrupt.
    let kafkaPid: number | undefined;
    while (!alive(kafkaPid)) {
      await sleep(100);
      kafkaPid = await readStateFile(home).then(
        (s) => s.services.kafka?.pid,
        () => undefined,
      );
    }
    run.kill('SIGINT');
    const r = await run;
    expect(r.exitCode).toBe(130);
    expect(alive(kafkaPid)).toBe(false);
    expect(await processesOf(home)).toEqual([]);
  });

  it('without java and mvn, up --runtime native names them, exits 1 and starts nothing; doctor lists the same', async () => {
    const home = await newHome();
    const bin = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-path-'));
    await symlink(process.execPath, path.join(bin, 'node'));
    const env = { PATH: bin, OUTBOXCTL_CACHE_DIR: await mkdtemp(path.join(os.tmpdir(), 'outboxctl-cache-')) };
    const r = await outboxctl(home, ['up', '--runtime', 'native'], env);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n').find((l) => l.startsWith('error:'))).toBe(
      'error: The native runtime needs java and mvn, which are not on PATH; nothing was started.',
    );
    expect(r.stderr).toContain('apt-get install openjdk-17-jre-headless');
    expect(r.stderr).toContain('apt-get install maven');
    expect(await processesOf(home)).toEqual([]);
    expect(existsSync(path.join(home, 'stacks', 'default', 'data', 'postgres'))).toBe(false);

    const doctor = await outboxctl(home, ['doctor', '--json'], env);
    expect(doctor.exitCode).toBe(1);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; fix?: string }[] }).checks;
    expect(checks.find((c) => c.name === 'java')).toMatchObject({ ok: false, fix: expect.stringContaining('openjdk-17') });
    expect(checks.find((c) => c.name === 'mvn')).toMatchObject({ ok: false, fix: expect.stringContaining('maven') });
  });

  it('never signals a reused pid: a recorded pid that now belongs to another process is stale', async () => {
    const home = await newHome();
    const other = execa('setsid', ['sleep', '60'], { reject: false });
    await sleep(200);
    const { mkdir, writeFile } = await import('node:fs/promises');
    const dir = path.join(home, 'stacks', 'default');
    await mkdir(dir, { recursive: true });
    const state = {
      schemaVersion: 1,
      stack: 'default',
      runtime: 'native',
      createdAt: '',
      updatedAt: '',
      endpoints: {},
      secrets: {},
      services: { tracking: { pid: other.pid, startId: 'another-boot:1', port: 1 } },
    };
    await writeFile(path.join(dir, 'state.json'), JSON.stringify(state), { mode: 0o600 });
    const status = JSON.parse((await outboxctl(home, ['status', '--json'])).stdout) as { services: { name: string; state: string }[] };
    expect(status.services.find((s) => s.name === 'tracking')!.state).toBe('crashed');
    const stop = await outboxctl(home, ['stop', 'tracking']);
    expect(stop.exitCode).toBe(0);
    expect(alive(other.pid)).toBe(true);
    other.kill('SIGKILL');
  });

  it('down --volumes cleans a stack whose state file is corrupt, processes included', async () => {
    const home = await newHome();
    expect((await outboxctl(home, ['up', '--services', 'postgres'])).exitCode).toBe(0);
    const pid = (await readStateFile(home)).services.postgres!.pid!;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(home, 'stacks', 'default', 'state.json'), '{ not json');
    const stacks = await outboxctl(home, ['stacks']);
    expect(stacks.stdout).toMatch(/default\s+corrupt/);
    const status = await outboxctl(home, ['status']);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toContain('down --volumes');
    const down = await outboxctl(home, ['down', '--volumes']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(await processesOf(home)).toEqual([]);
    expect(existsSync(path.join(home, 'stacks', 'default'))).toBe(false);
  });
});
