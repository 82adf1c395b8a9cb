import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stackPaths } from '../../src/stack/paths.js';
import { isRunning } from '../../src/stack/runtimes/native/process.js';
import { salvageState } from '../../src/stack/state.js';
import { nativeStackState } from '../helpers/state.js';
import { FAKE_SERVICES, fakeCli, newHome, pidsOf, removeStacks, UP_FAKES } from './fake-stack.js';

/**
 * What belongs to a stack is told apart exactly (stack "pa" is not "pa2"), a corrupt state file has a
 * way out that keeps the data, and a stack removed with its data leaves no directory behind.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function homeWith(stacks: string[]): Promise<string> {
  const home = await newHome();
  cleanups.push(() => removeStacks(home, stacks));
  for (const stack of stacks) {
    const up = await fakeCli(home, ['--stack', stack, ...UP_FAKES]);
    expect(up.exitCode, up.stderr).toBe(0);
  }
  return home;
}

const recordedPids = async (home: string, stack: string) => {
  const state = await nativeStackState(home, stack);
  return FAKE_SERVICES.map((s) => state.services[s]!.pid!);
};

describe('a stack finds its own processes without its state, never another stack’s', () => {
  it('down --volumes of a corrupt "pa" stops pa’s services and leaves pa2’s running', async () => {
    const home = await homeWith(['pa', 'pa2']);
    const pa = await recordedPids(home, 'pa');
    const pa2 = await recordedPids(home, 'pa2');
    await writeFile(stackPaths(home, 'pa').stateFile, '{ not json');

    const down = await fakeCli(home, ['--stack', 'pa', 'down', '--volumes']);
    expect(down.exitCode, down.stderr).toBe(0);
    for (const pid of pa) expect(isRunning(pid), `pa pid ${pid}`).toBe(false);
    for (const pid of pa2) expect(isRunning(pid), `pa2 pid ${pid}`).toBe(true);
    const status = JSON.parse((await fakeCli(home, ['--stack', 'pa2', 'status', '--json'])).stdout) as { services: { name: string; state: string }[] };
    expect(status.services.filter((s) => s.name.startsWith('fake')).map((s) => s.state)).toEqual(['ready', 'ready']);
  });
});

describe('a corrupt state file', () => {
  it('is refused with `down` named first; `down` sets it aside, stops what ran and keeps data and secrets; `up` starts afresh', async () => {
    const home = await homeWith(['pa']);
    const paths = stackPaths(home, 'pa');
    const before = await recordedPids(home, 'pa');
    await writeFile(path.join(paths.dataDir, 'fakedb', 'marker'), 'kept');
    // The secret the data was made with, as PostgreSQL's password is; the file is then cut off after it.
    const state = JSON.parse(await readFile(paths.stateFile, 'utf8')) as Record<string, unknown>;
    const whole = JSON.stringify({ ...state, secrets: { postgresPassword: 's3cret' }, tasks: {} }, null, 2);
    const corrupt = whole.slice(0, whole.indexOf('"tasks"'));
    await writeFile(paths.stateFile, corrupt);
    // Not a service: a reader of its log (not a session leader), as `tail -f` is.
    const reader = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', path.join(paths.logDir, 'fakedb.log')], { stdio: 'ignore' });
    cleanups.push(async () => void reader.kill('SIGKILL'));
    await new Promise((resolve) => reader.once('spawn', resolve));

    const status = await fakeCli(home, ['--stack', 'pa', 'status']);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toContain('is not valid JSON');
    const hint = status.stderr.slice(status.stderr.indexOf('hint:'));
    expect(hint).toContain('`outboxctl --stack pa down` to move the file aside');
    expect(hint.indexOf('pa down`')).toBeLessThan(hint.indexOf('down --volumes'));
    const refused = await fakeCli(home, ['--stack', 'pa', ...UP_FAKES]);
    expect(refused.exitCode).toBe(1);
    for (const service of FAKE_SERVICES) expect(pidsOf(home, 'pa', service)).toHaveLength(1);

    const down = await fakeCli(home, ['--stack', 'pa', 'down']);
    expect(down.exitCode, down.stderr).toBe(0);
    const kept = (await readdir(paths.dir)).filter((f) => f.startsWith('state.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^state\.json\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/);
    expect(await readFile(path.join(paths.dir, kept[0]!), 'utf8')).toBe(corrupt);
    expect(down.stdout).toContain(`kept as ${path.join(paths.dir, kept[0]!)}`);
    // Newest first: fakebus, which depends on fakedb, stops before it.
    expect(down.stdout).toContain(`stopped what ran for it (pid ${before[1]}, pid ${before[0]})`);
    expect(down.stdout).toContain('a new state file keeps its runtime (native) and secrets (postgresPassword)');
    for (const pid of before) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    expect(isRunning(reader.pid)).toBe(true);
    const fresh = await nativeStackState(home, 'pa');
    expect(fresh).toMatchObject({ runtime: 'native', secrets: { postgresPassword: 's3cret' }, services: {} });
    expect(await readFile(path.join(paths.dataDir, 'fakedb', 'marker'), 'utf8')).toBe('kept');

    const up = await fakeCli(home, ['--stack', 'pa', ...UP_FAKES]);
    expect(up.exitCode, up.stderr).toBe(0);
    const after = await recordedPids(home, 'pa');
    for (const [i, service] of FAKE_SERVICES.entries()) expect(pidsOf(home, 'pa', service)).toEqual([after[i]]);
    expect((await nativeStackState(home, 'pa')).secrets.postgresPassword).toBe('s3cret');
    expect(await readFile(path.join(paths.dataDir, 'fakedb', 'marker'), 'utf8')).toBe('kept');
  });

  it('keeps the runtime and the secrets of a file that parses but fails the schema, or of one cut short', () => {
    const doc = { schemaVersion: 2, runtime: 'docker', services: { kafka: { pid: 'twelve' } }, secrets: { postgresPassword: 'a', odd: 3 } };
    expect(salvageState(JSON.stringify(doc))).toEqual({ runtime: 'docker', secrets: { postgresPassword: 'a' } });
    const text = JSON.stringify({ ...doc, secrets: { postgresPassword: 'a"b' }, tasks: { topics: 'x' } }, null, 2);
    expect(salvageState(text.slice(0, text.indexOf('"tasks"')))).toEqual({ runtime: 'docker', secrets: { postgresPassword: 'a"b' } });
    expect(salvageState(text.slice(0, text.indexOf('"secrets"')))).toEqual({ runtime: 'docker', secrets: {} });
    expect(salvageState('')).toEqual({ secrets: {} });
    expect(salvageState('null')).toEqual({ secrets: {} });
  });
});

describe('a stack removed with its data', () => {
  it('leaves no directory, and `stacks` lists no directory without a state', async () => {
    const home = await homeWith(['pa']);
    const down = await fakeCli(home, ['--stack', 'pa', 'down', '--volumes']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(existsSync(stackPaths(home, 'pa').dir)).toBe(false);
    // `down` of a stack that never was makes no directory either.
    expect((await fakeCli(home, ['--stack', 'never', 'down'])).exitCode).toBe(0);
    expect(existsSync(stackPaths(home, 'never').dir)).toBe(false);
    // A leftover directory without a state (an older outboxctl's) is no stack.
    await mkdir(path.join(stackPaths(home, 'old').dir, 'logs'), { recursive: true });
    const stacks = await fakeCli(home, ['stacks', '--json']);
    expect(stacks.exitCode, stacks.stderr).toBe(0);
    expect((JSON.parse(stacks.stdout) as { stacks: unknown[] }).stacks).toEqual([]);
  });
});
