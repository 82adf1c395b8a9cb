import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { redactUrl, resolveEndpoint } from '../../src/lib/config.js';
import { colorLevel } from '../../src/lib/output.js';
import { resolveHome, resolveStackName, stackPaths } from '../../src/stack/paths.js';
import { emptyState, readState, STATE_SCHEMA_VERSION, updateState, withStackLock, writeState } from '../../src/stack/state.js';
import { waitFor, ReadinessTimeout, type Clock } from '../../src/stack/readiness.js';

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
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    let attempts = 0;
    const failing = waitFor(async () => {
      attempts++;
      throw new Error('connection refused');
    }, { timeoutMs: 5_000, clock });
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
