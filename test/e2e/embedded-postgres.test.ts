import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { STATE_SCHEMA_VERSION } from '../../src/stack/state.js';
import { BIN, ROOT, spawnCli } from '../helpers/cli.js';
import { migrationDir } from '../helpers/db.js';
import { nativeStackState } from '../helpers/state.js';

/** Pids of postgres processes serving this data directory. */
async function postgresPids(dataDir: string): Promise<string[]> {
  const result = await execa('pgrep', ['-f', `postgres -D ${dataDir}`], { reject: false });
  // 0: found, 1: none; anything else (pgrep missing) must not pass for "none".
  expect([0, 1]).toContain(result.exitCode);
  return result.stdout.split('\n').filter(Boolean);
}

describe("the stack's embedded PostgreSQL for db commands", () => {
  it('keeps what migrate wrote for the next info, and leaves no PostgreSQL running', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-embedded-'));
    const env = { OUTBOXCTL_HOME: home, OUTBOXCTL_STACK: 'e2e' };
    const dataDir = path.join(home, 'stacks', 'e2e', 'data', 'postgres');

    const migrated = await spawnCli(['db', 'migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const packaged = (await readdir(path.join(ROOT, 'db', 'migration'))).filter((f) => f.endsWith('.sql')).sort();
    expect(migrated.stdout).toContain(`Applied ${packaged.length} migrations`);
    expect(migrated.stderr).toMatch(/port 5432 is in use; PostgreSQL takes \d+ instead|starting PostgreSQL on 127\.0\.0\.1:5432/);
    expect(await postgresPids(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const info = await spawnCli(['db', 'info', '--json'], env);
    expect(info.code, info.stderr).toBe(0);
    const doc = JSON.parse(info.stdout) as { schemaVersion: string; migrations: { script: string; state: string }[] };
    expect(doc.schemaVersion).toBe(String(packaged.length));
    expect(doc.migrations.map((m) => [m.script, m.state])).toEqual(packaged.map((f) => [f, 'Success']));
    expect(await postgresPids(dataDir)).toEqual([]);

    const stateFile = path.join(home, 'stacks', 'e2e', 'state.json');
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as {
      schemaVersion: number;
      services: { postgres: { ports: { main: number }; pid?: number } };
      endpoints: Record<string, string>;
    };
    expect(state.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(state.services.postgres).toMatchObject({ runtime: 'native', ports: { main: expect.any(Number) } });
    expect(state.services.postgres.pid).toBeUndefined();
    expect(state.endpoints.database).toBeUndefined();
    expect(info.stdout).not.toContain(JSON.parse(await readFile(stateFile, 'utf8')).secrets.postgresPassword);
  });

  it("a second command waits for the first one's temporary PostgreSQL instead of sharing it", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-embedded-'));
    const env = { OUTBOXCTL_HOME: home };
    const slow = await migrationDir({ 'V50__slow.sql': 'SELECT pg_sleep(1.5);\n' });
    const first = spawnCli(['db', 'migrate', '--locations', slow], env);
    await sleep(700);
    const second = await spawnCli(['db', 'migrate', '--locations', slow], env);
    const firstResult = await first;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('waiting for another outboxctl command');
    expect(second.stdout).toContain('no migration applied');
    expect(await postgresPids(path.join(home, 'stacks', 'default', 'data', 'postgres'))).toEqual([]);
  });

  it('Ctrl-C while PostgreSQL starts stops it again (exit 130)', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-embedded-'));
    const dataDir = path.join(home, 'stacks', 'default', 'data', 'postgres');
    const slow = await migrationDir({ 'V50__slow.sql': 'SELECT pg_sleep(30);\n' });
    const run = execa(BIN, ['db', 'migrate', '--locations', slow], { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false });
    await new Promise<void>((resolve) => {
      let seen = '';
      run.stderr!.on('data', (chunk: Buffer) => {
        seen += String(chunk);
        if (seen.includes('starting PostgreSQL')) resolve();
      });
    });
    await sleep(300);
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode).toBe(130);
    expect(await postgresPids(dataDir)).toEqual([]);
    const state = await nativeStackState(home);
    expect(state.services.postgres?.pid).toBeUndefined();
  });

  it('starts PostgreSQL with logical decoding', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-embedded-'));
    const { ensurePostgres, stopPostgres } = await import('../../src/stack/postgres.js');
    const { stackPaths } = await import('../../src/stack/paths.js');
    const { withPg } = await import('../../src/clients/pg.js');
    const paths = stackPaths(home, 'wal');
    const pg = await ensurePostgres(paths);
    try {
      expect(pg.started).toBe(true);
      const again = await ensurePostgres(paths);
      expect(again).toMatchObject({ started: false, id: pg.id, port: pg.port });
      const settings = await withPg(
        pg.url,
        async (c) =>
          (await c.query<{ wal: string; version: string }>("SELECT current_setting('wal_level') AS wal, current_setting('server_version_num') AS version"))
            .rows[0]!,
      );
      expect(settings.wal).toBe('logical');
      expect(Number(settings.version)).toBeGreaterThanOrEqual(140000);
      expect(Number(settings.version)).toBeLessThan(190000);
    } finally {
      await stopPostgres(paths);
    }
    expect(await postgresPids(path.join(home, 'stacks', 'wal', 'data', 'postgres'))).toEqual([]);
  });
});

describe('up right after a kill -9 of the postmaster', () => {
  it('waits for the killed one to be gone (a zombie until PID 1 reaps it) and starts PostgreSQL again, three times in a row', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-pgkill-'));
    const env = { OUTBOXCTL_HOME: home, OUTBOXCTL_STACK: 'pgkill' };
    const dataDir = path.join(home, 'stacks', 'pgkill', 'data', 'postgres');
    try {
      const first = await spawnCli(['up', '--services', 'postgres', '--runtime', 'native'], env);
      expect(first.code, first.stderr).toBe(0);
      for (let round = 1; round <= 3; round++) {
        const postmaster = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        process.kill(postmaster, 'SIGKILL');
        const again = await spawnCli(['up', '--services', 'postgres', '--runtime', 'native'], env);
        expect(again.code, `round ${round}: ${again.stderr}`).toBe(0);
        const now = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        expect(now).not.toBe(postmaster);
        expect(await postgresPids(dataDir)).toEqual([String(now)]);
      }
    } finally {
      await spawnCli(['down', '--volumes'], env);
    }
  });
});
