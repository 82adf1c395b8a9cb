import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { redactUrl, resolveEndpoint } from '../../src/lib/config.js';
import { colorLevel } from '../../src/lib/output.js';
import { down, listStacks } from '../../src/stack/lifecycle.js';
import { resolveHome, resolveStackName, stackPaths } from '../../src/stack/paths.js';
import { type Clock, ReadinessTimeout, waitFor } from '../../src/stack/readiness.js';
import { processIdentity } from '../../src/stack/runtimes/native/process.js';
import { emptyState, migrateV1, readState, STATE_SCHEMA_VERSION, updateState, withStackLock, writeState } from '../../src/stack/state.js';

const tempHome = () => mkdtemp(path.join(os.tmpdir(), 'outboxctl-unit-'));

describe('stack paths', () => {
  it('resolves home from OUTBOXCTL_HOME, then XDG_STATE_HOME', () => {
    expect(resolveHome({ OUTBOXCTL_HOME: '/a/b' })).toBe('/a/b');
    expect(resolveHome({ XDG_STATE_HOME: '/x' })).toBe('/x/outboxctl');
    expect(resolveHome({})).toBe(path.join(os.homedir(), '.local', 'state', 'outboxctl'));
  });
  it('takes --stack over OUTBOXCTL_STACK over default, and rejects bad names', () => {
    expect(resolveStackName('dev', { OUTBOXCTL_STACK: 'ci' })).toBe('dev');
    expect(resolveStackName(undefined, { OUTBOXCTL_STACK: 'ci' })).toBe('ci');
    expect(resolveStackName(undefined, {})).toBe('default');
    expect(() => resolveStackName('../etc', {})).toThrow(/not valid/);
  });
});

describe('state file', () => {
  it('is written atomically with mode 0600 and a schemaVersion', async () => {
    const paths = stackPaths(await tempHome(), 'dev');
    expect(await readState(paths)).toBeUndefined();
    await writeState(paths, emptyState('dev'));
    const mode = (await stat(paths.stateFile)).mode & 0o777;
    expect(mode).toBe(0o600);
    const state = await readState(paths);
    expect(state?.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect((await readdir(paths.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a state file from a newer outboxctl and a corrupt one', async () => {
    const paths = stackPaths(await tempHome(), 'dev');
    await writeState(paths, emptyState('dev'));
    await writeFile(paths.stateFile, JSON.stringify({ schemaVersion: 99 }));
    await expect(readState(paths)).rejects.toThrow(/schema version 99/);
    await writeFile(paths.stateFile, '{');
    await expect(readState(paths)).rejects.toThrow(/not valid JSON/);
  });

  it('serializes read-modify-write under the lock', async () => {
    const paths = stackPaths(await tempHome(), 'dev');
    const bump = () =>
      withStackLock(paths, {}, async () => {
        const before = (await readState(paths))?.secrets.count ?? '0';
        await sleep(20);
        await updateState(paths, (s) => {
          s.secrets.count = String(Number(before) + 1);
        });
      });
    await Promise.all(Array.from({ length: 5 }, bump));
    expect((await readState(paths))?.secrets.count).toBe('5');
  });

  it('keeps every change of updates made at once in one process (services starting together)', async () => {
    const paths = stackPaths(await tempHome(), 'dev');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        updateState(paths, (s) => {
          s.secrets[`s${i}`] = String(i);
        }),
      ),
    );
    expect(Object.keys((await readState(paths))?.secrets ?? {}).sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
  });
});

describe('state file schema 1 → 2', () => {
  // As outboxctl 0.1 (schema 1) wrote them: a service `up` ran (pid, port beside ports), one it
  // stopped (pid gone, ports kept), and a server started by hand (no ports, not a group leader).
  const v1 = (pid: number, startId: string | undefined) => ({
    schemaVersion: 1,
    stack: 'dev',
    runtime: 'native',
    createdAt: '2026-11-30T10:00:00.000Z',
    updatedAt: '2026-11-30T10:05:00.000Z',
    services: {
      postgres: { host: '127.0.0.1', port: 5433, ports: { main: 5433 }, version: '17.10', owner: 'service', runtime: 'native' },
      kafka: { host: '127.0.0.1', port: 9092, ports: { main: 9092, controller: 9093 }, version: '4.3.1', runtime: 'native' },
      tracking: { pid, startId, group: false, host: '127.0.0.1', port: 8080, startedAt: '2026-11-30T10:04:00.000Z' },
    },
    endpoints: { database: 'postgres://postgres:pw@127.0.0.1:5433/outbox', tracking: 'http://127.0.0.1:8080' },
    secrets: { postgresPassword: 'pw' },
    tasks: { topics: '2026-11-30T10:01:00.000Z' },
    sink: 'embedded',
  });

  it('migrates every service to the native member of the union, ports by name, unknown keys dropped', () => {
    const raw = v1(4242, 'boot:1') as unknown as Record<string, unknown>;
    (raw.services as Record<string, Record<string, unknown>>).kafka!.leftover = 'x';
    const migrated = migrateV1(raw) as { schemaVersion: number; services: Record<string, unknown> };
    expect(migrated.schemaVersion).toBe(2);
    expect(migrated.services).toEqual({
      postgres: { runtime: 'native', host: '127.0.0.1', ports: { main: 5433 }, version: '17.10', owner: 'service' },
      kafka: { runtime: 'native', host: '127.0.0.1', ports: { main: 9092, controller: 9093 }, version: '4.3.1' },
      tracking: {
        runtime: 'native',
        pid: 4242,
        startId: 'boot:1',
        group: false,
        host: '127.0.0.1',
        ports: { main: 8080 },
        startedAt: '2026-11-30T10:04:00.000Z',
      },
    });
  });

  it('reads a schema-1 file, and the stack works on it: stacks sees the live server, down stops it and writes schema 2', async () => {
    const home = await tempHome();
    const paths = stackPaths(home, 'dev');
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    try {
      await mkdir(paths.dir, { recursive: true });
      await writeFile(paths.stateFile, JSON.stringify(v1(child.pid!, processIdentity(child.pid!))), { mode: 0o600 });
      const state = await readState(paths);
      expect(state?.services.tracking).toMatchObject({ runtime: 'native', pid: child.pid, ports: { main: 8080 } });
      expect((await listStacks(home)).find((s) => s.name === 'dev')).toMatchObject({ runtime: 'native', running: ['tracking'], stale: [] });
      const result = await down(paths, { volumes: false });
      expect(result.stopped).toEqual([{ service: 'tracking', result: 'stopped' }]);
      expect(child.exitCode ?? child.signalCode).toBeTruthy();
      const written = JSON.parse(await readFile(paths.stateFile, 'utf8')) as {
        schemaVersion: number;
        services: Record<string, { pid?: number; ports: object }>;
      };
      expect(written.schemaVersion).toBe(2);
      expect(written.services.tracking).toEqual({ runtime: 'native', host: '127.0.0.1', ports: { main: 8080 } });
      expect(written.services.kafka?.ports).toEqual({ main: 9092, controller: 9093 });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a file that fails the schema, naming the file and what is wrong', async () => {
    const paths = stackPaths(await tempHome(), 'dev');
    await writeState(paths, emptyState('dev'));
    const bad = { ...emptyState('dev'), services: { kafka: { runtime: 'native', pid: 'twelve', ports: { main: 9092 } } } };
    await writeFile(paths.stateFile, JSON.stringify(bad));
    const error = await readState(paths).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe('STATE_INVALID');
    expect((error as Error).message).toContain(paths.stateFile);
    expect((error as Error).message).toMatch(/services\.kafka\.pid: .*number/i);
    await writeFile(paths.stateFile, JSON.stringify({ ...bad, services: { kafka: { runtime: 'podman', ports: {} } } }));
    await expect(readState(paths)).rejects.toThrow(/services\.kafka\.runtime/);
  });
});

describe('down --volumes on a state file that fails the schema', () => {
  it('finds what runs for the stack without it, stops it and deletes the stack', async () => {
    const paths = stackPaths(await tempHome(), 'dev');
    await mkdir(paths.dataDir, { recursive: true });
    await writeFile(paths.stateFile, JSON.stringify({ ...emptyState('dev'), services: { kafka: { runtime: 'native', pid: 'twelve', ports: {} } } }));
    await expect(readState(paths)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    // A process of the stack names its directory on its command line, as every service does.
    // Detached: every service is a session leader, and only those count as the stack's.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', paths.dataDir], { stdio: 'ignore', detached: true });
    await new Promise((resolve) => child.once('spawn', resolve));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      expect(child.exitCode).toBeNull();
      const result = await down(paths, { volumes: true });
      expect(result.removedData).toBe(true);
      await exited;
      expect(child.signalCode ?? child.exitCode).toBeTruthy();
      await expect(stat(paths.dir)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('endpoint resolution', () => {
  const state = { ...emptyState('x'), endpoints: { kafka: 'state:9092' } };
  it('orders flag > env > state > default', () => {
    const env = { KAFKA_BOOTSTRAP_SERVERS: 'env:9092' };
    expect(resolveEndpoint('kafka', { flags: { bootstrapServer: 'flag:9092' }, env, state })).toEqual({ value: 'flag:9092', source: 'flag' });
    expect(resolveEndpoint('kafka', { flags: {}, env, state })).toEqual({ value: 'env:9092', source: 'env' });
    expect(resolveEndpoint('kafka', { flags: {}, env: {}, state })).toEqual({ value: 'state:9092', source: 'state' });
    expect(resolveEndpoint('kafka', { flags: {}, env: {} })).toEqual({ value: 'localhost:9092', source: 'default' });
    expect(resolveEndpoint('database', { flags: {}, env: {} })).toEqual({ value: undefined, source: 'default' });
  });
});

describe('waitFor', () => {
  it('retries until the deadline with a fake clock, then reports the last error', async () => {
    let now = 0;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    let attempts = 0;
    const failing = waitFor(
      async () => {
        attempts++;
        throw new Error('connection refused');
      },
      { timeoutMs: 5_000, clock },
    );
    await expect(failing).rejects.toBeInstanceOf(ReadinessTimeout);
    await expect(failing).rejects.toThrow(/after 5000ms: connection refused/);
    expect(attempts).toBeGreaterThan(3);
    let n = 0;
    await expect(waitFor(async () => (++n < 3 ? Promise.reject(new Error('no')) : 'ok'), { timeoutMs: 5_000, clock })).resolves.toBe('ok');
  });
});

describe('colour', () => {
  it('only on a TTY, never with NO_COLOR or --json', () => {
    expect(colorLevel({ write: () => true, isTTY: true }, {}, false)).toBeGreaterThan(0);
    expect(colorLevel({ write: () => true, isTTY: true }, { NO_COLOR: '' }, false)).toBe(0);
    expect(colorLevel({ write: () => true, isTTY: true }, { NO_COLOR: '1' }, false)).toBe(0);
    expect(colorLevel({ write: () => true, isTTY: false }, {}, false)).toBe(0);
    expect(colorLevel({ write: () => true, isTTY: true }, {}, true)).toBe(0);
  });
  it('never prints a password of a URL', () => {
    expect(redactUrl('postgres://u:secret@h:1/db')).toBe('postgres://u:****@h:1/db');
  });
});
