import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, spawnCli } from '../helpers/cli.js';
import { freshDatabase, migrationDir, query } from '../helpers/db.js';

interface InfoDoc {
  schemaVersion: string | null;
  migrations: { version: string | null; script: string; state: string; checksum: number; installedRank: number | null }[];
}

async function history(url: string) {
  return query<{ installed_rank: number; version: string | null; script: string; checksum: number; type: string; success: boolean }>(
    url,
    'SELECT installed_rank, version, script, checksum, type, success FROM flyway_schema_history ORDER BY installed_rank',
  );
}

/** A db command on `url` with only the scripts of `dir` (not the packaged ones). */
const db = (command: string, url: string, dir: string, ...args: string[]) =>
  cli(['db', command, ...args, '--database-url', url, '--no-default-locations', '--locations', dir]);
const dbProcess = (command: string, url: string, dir: string) => spawnCli(['db', command, '--database-url', url, '--no-default-locations', '--locations', dir]);

describe('db migrate / validate / repair / baseline on a real PostgreSQL', () => {
  it('migrate twice is a no-op and info --json parses', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V1__widgets.sql': 'CREATE TABLE widgets (id int);\n' });
    const first = await db('migrate', url, dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Applied 1 migration; schema now at version 1.');
    const rows = await history(url);
    const second = await db('migrate', url, dir);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('no migration applied');
    expect(await history(url)).toEqual(rows);
    const info = await db('info', url, dir, '--json');
    const doc = JSON.parse(info.stdout) as InfoDoc;
    expect(doc.schemaVersion).toBe('1');
    expect(doc.migrations.map((m) => [m.version, m.state])).toEqual([['1', 'Success']]);
    const tables = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    expect(tables.map((t) => t.table_name)).toEqual(['flyway_schema_history', 'widgets']);
  });

  it('an edited applied script fails validate naming it; repair --dry-run prints the UPDATE; repair fixes it', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V1__widgets.sql': 'CREATE TABLE widgets (id int);\n' });
    expect((await db('migrate', url, dir)).code).toBe(0);
    await appendFile(path.join(dir, 'V1__widgets.sql'), '-- an edit after the fact\n');

    const invalid = await db('validate', url, dir);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('checksum mismatch');
    expect(invalid.stderr).toContain('V1__widgets.sql');
    const blocked = await db('migrate', url, dir);
    expect(blocked.code).toBe(1);

    const before = await history(url);
    const dry = await db('repair', url, dir, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /^UPDATE "public"\."flyway_schema_history" SET "description" = 'widgets', "type" = 'SQL', "checksum" = -?\d+ WHERE "installed_rank" = 1;$/m,
    );
    expect(await history(url)).toEqual(before);

    const fixed = await db('repair', url, dir);
    expect(fixed.code, fixed.stderr).toBe(0);
    const newChecksum = Number(/"checksum" = (-?\d+)/.exec(dry.stdout)![1]);
    expect((await history(url))[0]!.checksum).toBe(newChecksum);
    expect((await db('validate', url, dir)).code).toBe(0);
  });

  it('a failed migration leaves no partial schema; repair clears the failed entry', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({
      'V1__half.sql': 'CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELEC oops;\n',
    });
    const failed = await db('migrate', url, dir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Migration V1__half.sql failed (line 3)');
    const exists = await query<{ t: string | null }>(url, "SELECT to_regclass('half_done')::text AS t");
    expect(exists[0]!.t).toBeNull();
    const rows = await history(url);
    expect(rows.map((r) => [r.version, r.success])).toEqual([['1', false]]);

    const info = JSON.parse((await db('info', url, dir, '--json')).stdout) as InfoDoc;
    expect(info.migrations.find((m) => m.version === '1')?.state).toBe('Failed');
    expect((await db('migrate', url, dir)).stderr).toContain('Detected failed migration to version 1');

    const repaired = await db('repair', url, dir);
    expect(repaired.code).toBe(0);
    expect((await history(url)).map((r) => r.version)).toEqual([]);
    await writeFile(path.join(dir, 'V1__half.sql'), 'CREATE TABLE half_done (id int);\n');
    expect((await db('migrate', url, dir)).code).toBe(0);
    expect((await db('validate', url, dir)).code).toBe(0);
  });

  it('a removed applied script is missing until repair marks it deleted', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V1__a.sql': 'SELECT 1;', 'V2__b.sql': 'SELECT 2;' });
    expect((await db('migrate', url, dir)).code).toBe(0);
    const without = await migrationDir({ 'V2__b.sql': 'SELECT 2;' });
    const invalid = await db('validate', url, without);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('not resolved locally: 1 (V1__a.sql)');
    expect((await db('repair', url, without)).code).toBe(0);
    const rows = await history(url);
    expect(rows.at(-1)).toMatchObject({ version: '1', type: 'DELETE', script: 'V1__a.sql', success: true });
    expect((await db('validate', url, without)).code).toBe(0);
  });

  it('two concurrent migrate processes apply each script once', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({
      'V1__slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(1);\n',
      'V2__after.sql': 'CREATE TABLE after_slow (id int);\n',
    });
    const [a, b] = await Promise.all([dbProcess('migrate', url, dir), dbProcess('migrate', url, dir)]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const rows = await history(url);
    expect(rows.map((r) => r.version)).toEqual(['1', '2']);
    expect(rows.every((r) => r.success)).toBe(true);
    const applied = [a.stdout, b.stdout].map((s) => /Applied (\d+)/.exec(s)?.[1] ?? '0').map(Number);
    expect(applied.sort()).toEqual([0, 2]);
  });

  it('baseline then migrate skips versions at or below the baseline', async () => {
    const url = await freshDatabase();
    await query(url, 'CREATE TABLE legacy (id int)');
    const dir = await migrationDir({
      'V1__one.sql': 'CREATE TABLE one (id int);',
      'V2__two.sql': 'CREATE TABLE two (id int);',
      'V3__three.sql': 'CREATE TABLE three (id int);',
    });
    const base = await db('baseline', url, dir, '--baseline-version', '2');
    expect(base.code, base.stderr).toBe(0);
    const migrated = await db('migrate', url, dir);
    expect(migrated.code, migrated.stderr).toBe(0);
    const rows = await history(url);
    expect(rows.map((r) => [r.installed_rank, r.version, r.type])).toEqual([
      [1, '2', 'BASELINE'],
      [2, '3', 'SQL'],
    ]);
    const tables = await query<{ t: string | null }>(
      url,
      "SELECT to_regclass('one')::text AS t UNION ALL SELECT to_regclass('two')::text UNION ALL SELECT to_regclass('three')::text",
    );
    expect(tables.map((t) => t.t)).toEqual([null, null, 'three']);
    const again = await db('baseline', url, dir, '--baseline-version', '5');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already baselined');
  });

  it('runs a script that cannot run in a transaction (CREATE INDEX CONCURRENTLY) outside one', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V1__table.sql': 'CREATE TABLE big (id int);', 'V2__index.sql': 'CREATE INDEX CONCURRENTLY big_id_idx ON big (id);\n' });
    const result = await db('migrate', url, dir);
    expect(result.code, result.stderr).toBe(0);
    expect(await query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'big'")).toEqual([{ indexname: 'big_id_idx' }]);
    expect((await history(url)).map((r) => [r.version, r.success])).toEqual([
      ['1', true],
      ['2', true],
    ]);
  });

  it('checksum prints what Flyway would store', async () => {
    const dir = await migrationDir({ 'V9__x.sql': '\uFEFFSELECT 1;\r\nSELECT 2;\r\n' });
    const { code, stdout } = await cli(['db', 'checksum', path.join(dir, 'V9__x.sql')]);
    expect(code).toBe(0);
    const { crc32 } = await import('node:zlib');
    expect(Number(stdout.trim())).toBe(crc32(Buffer.from('SELECT 1;SELECT 2;')) | 0);
    const missing = await cli(['db', 'checksum', '/nope.sql']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Cannot read /nope.sql: no such file.');
  });
});
