import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { flywayChecksum } from '../../src/migrations/checksum.js';
import type { AppliedMigration } from '../../src/migrations/history.js';
import { advisoryLockId } from '../../src/migrations/history.js';
import { computeInfo, pendingMigrations, validateInfo } from '../../src/migrations/info.js';
import { planRepair } from '../../src/migrations/repair.js';
import { compareResolved, nonTransactionalStatement, parseScriptName, type ResolvedMigration } from '../../src/migrations/scripts.js';
import { compareVersions, parseVersion } from '../../src/migrations/version.js';

const v = (text: string) => parseVersion(text)!;

describe('versions (Flyway MigrationVersion)', () => {
  it('orders numerically part by part', () => {
    const sorted = ['1.10', '2', '1.2', '1', '1.1', '10']
      .map(v)
      .sort(compareVersions)
      .map((x) => x.text);
    expect(sorted).toEqual(['1', '1.1', '1.2', '1.10', '2', '10']);
  });
  it('treats trailing zeros and leading zeros as equal, keeping the text', () => {
    expect(compareVersions(v('1'), v('1.0.0'))).toBe(0);
    expect(compareVersions(v('01'), v('1'))).toBe(0);
    expect(v('01').text).toBe('01');
    expect(v('1_1').text).toBe('1.1');
  });
  it('rejects non-numeric versions', () => {
    expect(parseVersion('1a')).toBeUndefined();
    expect(parseVersion('')).toBeUndefined();
  });
});

describe('script names', () => {
  it('parses versioned and repeatable names with descriptions', () => {
    expect(parseScriptName('V1_1__Add_parcel_table.sql')).toMatchObject({ kind: 'versioned', description: 'Add parcel table', version: { text: '1.1' } });
    expect(parseScriptName('R__parcel_view.sql')).toEqual({ kind: 'repeatable', description: 'parcel view' });
    expect(parseScriptName('README.md')).toEqual({ kind: 'ignored' });
    expect(parseScriptName('V1_init.sql').kind).toBe('invalid');
    expect(parseScriptName('Vx__init.sql').kind).toBe('invalid');
  });
});

describe('checksum (Flyway ChecksumCalculator)', () => {
  it('is CRC32 of the text without line breaks, signed', () => {
    const expected = crc32(Buffer.from('select 1;select 2;')) | 0;
    expect(flywayChecksum('select 1;\r\nselect 2;\r\n')).toBe(expected);
    expect(flywayChecksum('select 1;\nselect 2;')).toBe(expected);
    expect(flywayChecksum('\uFEFFselect 1;\nselect 2;\n')).toBe(expected);
    expect(flywayChecksum(Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('select 1;\nselect 2;')]))).toBe(expected);
  });
  it('returns negative numbers for CRCs above 2^31', () => {
    const text = 'x'.repeat(7);
    const unsigned = crc32(Buffer.from(text));
    expect(flywayChecksum(text)).toBe(unsigned > 0x7fffffff ? unsigned - 0x100000000 : unsigned);
  });
});

describe('advisory lock id', () => {
  it('matches Flyway for "public"."flyway_schema_history"', () => {
    expect(advisoryLockId({ schema: 'public', table: 'flyway_schema_history' })).toBe(77433833903597n);
  });
});

const resolved = (version: string | undefined, description: string, checksum = 1): ResolvedMigration => ({
  version: version ? v(version) : undefined,
  description,
  script: version ? `V${version}__${description.replace(/ /g, '_')}.sql` : `R__${description.replace(/ /g, '_')}.sql`,
  type: 'SQL',
  checksum,
  file: '/x',
  sql: '',
});

let rank = 0;
const applied = (m: Partial<AppliedMigration> & { version: string | null; description: string }): AppliedMigration => ({
  installedRank: ++rank,
  type: 'SQL',
  script: m.version ? `V${m.version}__${m.description.replace(/ /g, '_')}.sql` : `R__${m.description.replace(/ /g, '_')}.sql`,
  checksum: 1,
  installedBy: 'postgres',
  installedOn: new Date(0),
  executionTime: 1,
  success: true,
  ...m,
});

const table = { schema: 'public', table: 'flyway_schema_history' };

describe('info states', () => {
  it('marks applied, pending, missing, future and ignored migrations', () => {
    rank = 0;
    const files = [resolved('1', 'a'), resolved('2', 'b'), resolved('4', 'd'), resolved('5', 'e')];
    const rows = [
      applied({ version: '1', description: 'a' }),
      applied({ version: '3', description: 'c' }),
      applied({ version: '5', description: 'e' }),
      applied({ version: '9', description: 'z' }),
    ];
    const info = computeInfo(files, rows);
    const states = Object.fromEntries(info.map((i) => [i.version, i.state]));
    expect(states).toEqual({ '1': 'Success', '3': 'Missing', '5': 'Success', '9': 'Future', '2': 'Ignored', '4': 'Ignored' });
  });

  it('reports failed rows and baselines', () => {
    rank = 0;
    const files = [resolved('1', 'a'), resolved('2', 'b'), resolved('3', 'c'), resolved('4', 'd')];
    const rows = [
      applied({ version: '2', description: '<< Flyway Baseline >>', type: 'BASELINE', checksum: null }),
      applied({ version: '3', description: 'c', success: false }),
    ];
    const info = computeInfo(files, rows);
    expect(info.map((i) => [i.version, i.state])).toEqual([
      ['2', 'Baseline'],
      ['3', 'Failed'],
      ['1', 'Below Baseline'],
      ['2', 'Ignored (Baseline)'],
      ['4', 'Pending'],
    ]);
    expect(validateInfo(info).map((e) => e.kind)).toEqual(['failed', 'pending']);
  });

  it('treats repeatables as outdated when their checksum changes, superseding older runs', () => {
    rank = 0;
    const rows = [applied({ version: null, description: 'view', checksum: 1 }), applied({ version: null, description: 'view', checksum: 2 })];
    const info = computeInfo([resolved(undefined, 'view', 3), resolved(undefined, 'other', 4)], rows);
    expect(info.map((i) => i.state)).toEqual(['Superseded', 'Outdated', 'Pending']);
    expect(pendingMigrations(info).map((m) => m.description)).toEqual(['other', 'view']);
    expect(validateInfo(info, { ignorePending: true })).toEqual([]);
  });

  it('shows deleted migrations as Deleted and their files as pending again', () => {
    rank = 0;
    const rows = [
      applied({ version: '1', description: 'a' }),
      applied({ version: '2', description: 'b' }),
      applied({ version: '2', description: 'b', type: 'DELETE', executionTime: 0 }),
    ];
    const info = computeInfo([resolved('1', 'a'), resolved('2', 'b')], rows);
    expect(info.map((i) => [i.version, i.state])).toEqual([
      ['1', 'Success'],
      ['2', 'Deleted'],
      ['2', 'Pending'],
    ]);
  });

  it('detects checksum mismatches, naming the script', () => {
    rank = 0;
    const info = computeInfo([resolved('1', 'a', 42)], [applied({ version: '1', description: 'a', checksum: 7 })]);
    const errors = validateInfo(info);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.kind).toBe('checksum');
    expect(errors[0]!.message).toContain('V1__a.sql');
  });
});

describe('repair plan', () => {
  it('deletes failed rows, marks missing ones deleted and realigns changed ones, in that order', () => {
    rank = 0;
    const files = [resolved('1', 'a', 10), resolved('3', 'c'), resolved('4', 'd')];
    const rows = [
      applied({ version: '1', description: 'a', checksum: 9 }),
      applied({ version: '2', description: 'b', checksum: 5 }),
      applied({ version: '3', description: 'c' }),
      applied({ version: '4', description: 'd', success: false }),
    ];
    const plan = planRepair(computeInfo(files, rows), table, 'me');
    expect(plan.statements).toEqual([
      'DELETE FROM "public"."flyway_schema_history" WHERE "success" = FALSE AND "version" = \'4\';',
      'INSERT INTO "public"."flyway_schema_history" ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success") VALUES (5, \'2\', \'b\', \'DELETE\', \'V2__b.sql\', 5, \'me\', 0, true);',
      'UPDATE "public"."flyway_schema_history" SET "description" = \'a\', "type" = \'SQL\', "checksum" = 10 WHERE "installed_rank" = 1;',
    ]);
  });

  it('plans nothing for a consistent history', () => {
    rank = 0;
    const plan = planRepair(computeInfo([resolved('1', 'a')], [applied({ version: '1', description: 'a' })]), table, 'me');
    expect(plan.statements).toEqual([]);
  });
});

describe('resolved ordering', () => {
  it('puts versions first, then repeatables by description', () => {
    const sorted = [resolved(undefined, 'b'), resolved('2', 'x'), resolved(undefined, 'a'), resolved('1.5', 'y')].sort(compareResolved);
    expect(sorted.map((m) => m.script)).toEqual(['V1.5__y.sql', 'V2__x.sql', 'R__a.sql', 'R__b.sql']);
  });
});

describe('Flyway details', () => {
  it('compares long descriptions as Flyway stores them (197 characters + "...")', () => {
    rank = 0;
    const long = 'word '.repeat(50).trim();
    const info = computeInfo([resolved('1', long)], [applied({ version: '1', description: `${long.slice(0, 197)}...` })]);
    expect(validateInfo(info)).toEqual([]);
    expect(planRepair(info, table, 'me').statements).toEqual([]);
  });
  it('spots statements that cannot run in a transaction, outside comments and strings', () => {
    expect(nonTransactionalStatement('CREATE INDEX CONCURRENTLY i ON t (c);')).toBe('CREATE INDEX CONCURRENTLY');
    expect(nonTransactionalStatement('create unique index concurrently i on t (c);')).toBe('CREATE UNIQUE INDEX CONCURRENTLY');
    expect(nonTransactionalStatement("-- VACUUM later\nSELECT 'VACUUM';\n/* ALTER SYSTEM */")).toBeUndefined();
    expect(nonTransactionalStatement('CREATE INDEX i ON t (c);')).toBeUndefined();
  });
});
