import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';

/** Pids of postgres processes serving this data directory. */
async function postgresPids(dataDir: string): Promise<string[]> {
  const { stdout } = await execa('pgrep', ['-f', `postgres -D ${dataDir}`], { reject: false });
  return stdout.split('\n').filter(Boolean);
}

describe('the stack\'s embedded PostgreSQL for db commands', () => {
  it('keeps what migrate wrote for the next info, and leaves no PostgreSQL running', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-embedded-'));
    const env = { OUTBOXCTL_HOME: home, OUTBOXCTL_STACK: 'e2e' };
    const dataDir = path.join(home, 'stacks', 'e2e', 'data', 'postgres');

    const migrated = await spawnCli(['db', 'migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain('Applied 2 migrations');
    expect(migrated.stderr).toMatch(/port 5432 is in use; PostgreSQL takes \d+ instead|starting PostgreSQL on 127\.0\.0\.1:5432/);
    expect(await postgresPids(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const info = await spawnCli(['db', 'info', '--json'], env);
    expect(info.code, info.stderr).toBe(0);
    const doc = JSON.parse(info.stdout) as { schemaVersion: string; migrations: { script: string; state: string }[] };
    expect(doc.schemaVersion).toBe('2');
    expect(doc.migrations.map((m) => [m.script, m.state])).toEqual([
      ['V1__create_parcel.sql', 'Success'],
      ['V2__create_outbox.sql', 'Success'],
    ]);
    expect(await postgresPids(dataDir)).toEqual([]);

    const stateFile = path.join(home, 'stacks', 'e2e', 'state.json');
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { schemaVersion: number; services: { postgres: { port: number; pid?: number } }; endpoints: Record<string, string> };
    expect(state.schemaVersion).toBe(1);
    expect(state.services.postgres.pid).toBeUndefined();
    expect(state.endpoints.database).toBeUndefined();
    expect(info.stdout).not.toContain(JSON.parse(await readFile(stateFile, 'utf8')).secrets.postgresPassword);
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
      expect(again).toMatchObject({ started: false, pid: pg.pid, port: pg.port });
      const settings = await withPg(pg.url, async (c) => (await c.query<{ wal: string; version: string }>("SELECT current_setting('wal_level') AS wal, current_setting('server_version_num') AS version")).rows[0]!);
      expect(settings.wal).toBe('logical');
      expect(Number(settings.version)).toBeGreaterThanOrEqual(140000);
      expect(Number(settings.version)).toBeLessThan(190000);
    } finally {
      await stopPostgres(paths);
    }
    expect(await postgresPids(path.join(home, 'stacks', 'wal', 'data', 'postgres'))).toEqual([]);
  });
});
