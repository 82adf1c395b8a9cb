import { copyFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_SCHEMA_VERSION } from '../../src/stack/state.js';
import { cli, ROOT } from '../helpers/cli.js';
import { nativeStackState } from '../helpers/state.js';

/**
 * test/fixtures/state-v1.json was written by outboxctl 0.1 (c738ba6, schema 1) itself: `up --services
 * tracking` (postgres and tracking), then `stop tracking`, copied before `down`. The current
 * release reads it, migrates it and runs the stack from it.
 */
describe('a state file of the previous release', () => {
  it('is migrated and works: status reads it, up starts from it on its recorded port and password, down writes schema 2', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-v1-'));
    const dir = path.join(home, 'stacks', 'default');
    await mkdir(dir, { recursive: true });
    await copyFile(path.join(ROOT, 'test', 'fixtures', 'state-v1.json'), path.join(dir, 'state.json'));
    const env = { OUTBOXCTL_HOME: home };

    const status = await cli(['status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout) as { runtime: string; services: { name: string; state: string; port: number | null }[] };
    expect(doc.runtime).toBe('native');
    // Its postgres pid belongs to a process long gone (or to another one now): crashed, never signalled.
    expect(doc.services.find((s) => s.name === 'postgres')).toMatchObject({ state: 'crashed', port: 44999 });
    expect(doc.services.find((s) => s.name === 'tracking')).toMatchObject({ state: 'stopped', port: 33215 });
    // The endpoints, as flags would name them, the database password masked.
    const endpoints = (JSON.parse(status.stdout) as { endpoints: Record<string, string> }).endpoints;
    expect(endpoints.database).toMatch(/^postgres(ql)?:\/\/postgres:\*\*\*\*@127\.0\.0\.1:44999\//);
    expect(status.stdout).not.toContain('gNlfy0nE6I-qQw0mWe_-Cw3d');

    const up = await cli(['up', '--services', 'postgres', '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/postgres is not running any more \(pid 12365\); starting it again/);
    const state = await nativeStackState(home);
    expect(state.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(state.secrets.postgresPassword).toBe('gNlfy0nE6I-qQw0mWe_-Cw3d');
    expect(state.services.postgres).toMatchObject({ runtime: 'native', ports: { main: expect.any(Number) } });
    expect(state.services.postgres?.pid).not.toBe(12365);
    expect(state.services.tracking).toMatchObject({ runtime: 'native', ports: { main: 33215 } });
    const ready = JSON.parse((await cli(['status', '--json'], env)).stdout) as { services: { name: string; state: string }[] };
    expect(ready.services.find((s) => s.name === 'postgres')?.state).toBe('ready');

    const down = await cli(['down'], env);
    expect(down.code, down.stderr).toBe(0);
    const written = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as { schemaVersion: number; services: Record<string, object> };
    expect(written.schemaVersion).toBe(2);
    expect(written.services.postgres).not.toHaveProperty('pid');
  });
});
