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

describe('db migrate / validate / repair / baseline on a real PostgreSQL', () => {
  it('migrate twice is a no-op and info --json parses', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V3__widgets.sql': 'CREATE TABLE widgets (id int);\n' });
    const first = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Applied 3 migrations; schema now at version 3.');
    const rows = await history(url);
    const second = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('no migration applied');
    expect(await history(url)).toEqual(rows);
    const info = await cli(['db', 'info', '--json', '--database-url', url, '--locations', dir]);
    const doc = JSON.parse(info.stdout) as InfoDoc;
    expect(doc.schemaVersion).toBe('3');
    expect(doc.migrations.map((m) => [m.version, m.state])).toEqual([['1', 'Success'], ['2', 'Success'], ['3', 'Success']]);
    const tables = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    expect(tables.map((t) => t.table_name)).toEqual(['flyway_schema_history', 'outbox', 'parcel', 'widgets']);
  });

  it('an edited applied script fails validate naming it; repair --dry-run prints the UPDATE; repair fixes it', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V3__widgets.sql': 'CREATE TABLE widgets (id int);\n' });
    expect((await cli(['db', 'migrate', '--database-url', url, '--locations', dir])).code).toBe(0);
    await appendFile(path.join(dir, 'V3__widgets.sql'), '-- an edit after the fact\n');

    const invalid = await cli(['db', 'validate', '--database-url', url, '--locations', dir]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('checksum mismatch');
    expect(invalid.stderr).toContain('V3__widgets.sql');
    const blocked = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(blocked.code).toBe(1);

    const before = await history(url);
    const dry = await cli(['db', 'repair', '--dry-run', '--database-url', url, '--locations', dir]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^UPDATE "public"\."flyway_schema_history" SET "description" = 'widgets', "type" = 'SQL', "checksum" = -?\d+ WHERE "installed_rank" = 3;$/m);
    expect(await history(url)).toEqual(before);

    const fixed = await cli(['db', 'repair', '--database-url', url, '--locations', dir]);
    expect(fixed.code, fixed.stderr).toBe(0);
    const newChecksum = Number(/"checksum" = (-?\d+)/.exec(dry.stdout)![1]);
    expect((await history(url))[2]!.checksum).toBe(newChecksum);
    expect((await cli(['db', 'validate', '--database-url', url, '--locations', dir])).code).toBe(0);
  });

  it('a failed migration leaves no partial schema; repair clears the failed entry', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({
      'V3__half.sql': 'CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELEC oops;\n',
    });
    const failed = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Migration V3__half.sql failed (line 3)');
    const exists = await query<{ t: string | null }>(url, "SELECT to_regclass('half_done')::text AS t");
    expect(exists[0]!.t).toBeNull();
    const rows = await history(url);
    expect(rows.map((r) => [r.version, r.success])).toEqual([['1', true], ['2', true], ['3', false]]);

    const info = JSON.parse((await cli(['db', 'info', '--json', '--database-url', url, '--locations', dir])).stdout) as InfoDoc;
    expect(info.migrations.find((m) => m.version === '3')?.state).toBe('Failed');
    expect((await cli(['db', 'migrate', '--database-url', url, '--locations', dir])).stderr).toContain('Detected failed migration to version 3');

    const repaired = await cli(['db', 'repair', '--database-url', url, '--locations', dir]);
    expect(repaired.code).toBe(0);
    expect((await history(url)).map((r) => r.version)).toEqual(['1', '2']);
    await writeFile(path.join(dir, 'V3__half.sql'), 'CREATE TABLE half_done (id int);\n');
    expect((await cli(['db', 'migrate', '--database-url', url, '--locations', dir])).code).toBe(0);
    expect((await cli(['db', 'validate', '--database-url', url, '--locations', dir])).code).toBe(0);
  });

  it('a removed applied script is missing until repair marks it deleted', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({ 'V3__a.sql': 'SELECT 1;', 'V4__b.sql': 'SELECT 2;' });
    expect((await cli(['db', 'migrate', '--database-url', url, '--locations', dir])).code).toBe(0);
    const without = await migrationDir({ 'V4__b.sql': 'SELECT 2;' });
    const invalid = await cli(['db', 'validate', '--database-url', url, '--locations', without]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('not resolved locally: 3 (V3__a.sql)');
    expect((await cli(['db', 'repair', '--database-url', url, '--locations', without])).code).toBe(0);
    const rows = await history(url);
    expect(rows.at(-1)).toMatchObject({ version: '3', type: 'DELETE', script: 'V3__a.sql', success: true });
    expect((await cli(['db', 'validate', '--database-url', url, '--locations', without])).code).toBe(0);
  });

  it('two concurrent migrate processes apply each script once', async () => {
    const url = await freshDatabase();
    const dir = await migrationDir({
      'V3__slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(1);\n',
      'V4__after.sql': 'CREATE TABLE after_slow (id int);\n',
    });
    const [a, b] = await Promise.all([
      spawnCli(['db', 'migrate', '--database-url', url, '--locations', dir]),
      spawnCli(['db', 'migrate', '--database-url', url, '--locations', dir]),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const rows = await history(url);
    expect(rows.map((r) => r.version)).toEqual(['1', '2', '3', '4']);
    expect(rows.every((r) => r.success)).toBe(true);
    const applied = [a.stdout, b.stdout].map((s) => /Applied (\d+)/.exec(s)?.[1] ?? '0').map(Number);
    expect(applied.sort()).toEqual([0, 4]);
  });

  it('baseline then migrate skips versions at or below the baseline', async () => {
    const url = await freshDatabase();
    await query(url, 'CREATE TABLE legacy (id int)');
    const dir = await migrationDir({ 'V3__three.sql': 'CREATE TABLE three (id int);', 'V4__four.sql': 'CREATE TABLE four (id int);' });
    const base = await cli(['db', 'baseline', '--baseline-version', '3', '--database-url', url, '--locations', dir]);
    expect(base.code, base.stderr).toBe(0);
    const migrated = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(migrated.code, migrated.stderr).toBe(0);
    const rows = await history(url);
    expect(rows.map((r) => [r.installed_rank, r.version, r.type])).toEqual([[1, '3', 'BASELINE'], [2, '4', 'SQL']]);
    const tables = await query<{ t: string | null }>(url, "SELECT to_regclass('parcel')::text AS t UNION ALL SELECT to_regclass('three')::text UNION ALL SELECT to_regclass('four')::text");
    expect(tables.map((t) => t.t)).toEqual([null, null, 'four']);
    const again = await cli(['db', 'baseline', '--baseline-version', '5', '--database-url', url, '--locations', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already baselined');
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
