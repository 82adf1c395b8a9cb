import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.js';
import { freshDatabase, migrationDir } from '../helpers/db.js';

/**
 * Real Flyway (flyway-core + flyway-database-postgresql 13.12.1 from Maven Central) against
 * what outboxctl writes, and outboxctl against what Flyway writes.
 */
const FLYWAY_DIR = path.join(ROOT, 'test', 'flyway');
let classpath = '';

interface Row {
  rank: string;
  version: string;
  description: string;
  type: string;
  script: string;
  checksum: string;
  state: string;
}

async function flyway(command: 'migrate' | 'info' | 'validate', url: string, locations: string[]) {
  const u = new URL(url);
  const jdbc = `jdbc:postgresql://${u.hostname}:${u.port}${u.pathname}`;
  return execa(
    'java',
    [
      '-Xmx256m',
      '-cp',
      classpath,
      path.join(FLYWAY_DIR, 'FlywayDriver.java'),
      command,
      jdbc,
      decodeURIComponent(u.username),
      decodeURIComponent(u.password),
      ...locations,
    ],
    {
      reject: false,
      env: { REDGATE_DISABLE_TELEMETRY: 'true', FLYWAY_TELEMETRY_OPTOUT: 'true' },
    },
  );
}

function parseInfo(stdout: string): Row[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [rank, version, description, type, script, checksum, state] = line.split('\t') as string[];
      return { rank: rank!, version: version!, description: description!, type: type!, script: script!, checksum: checksum!, state: state! };
    });
}

interface OurInfo {
  migrations: { installedRank: number | null; version: string | null; description: string; type: string; script: string; checksum: number; state: string }[];
}

const fixtures = {
  // CRLF line ends throughout.
  'V5__crlf_endings.sql': 'CREATE TABLE crlf_table (\r\n  id int\r\n);\r\nINSERT INTO crlf_table VALUES (1);\r\n',
  // A UTF-8 byte order mark and non-ASCII text.
  'V5_1__bom_and_unicode.sql': Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from("CREATE TABLE bom_table (label text);\nINSERT INTO bom_table VALUES ('Größe – 包裹');\n"),
  ]),
  // Versions that sort numerically, not as text.
  'nested/V10__ten.sql': 'CREATE TABLE ten (id int);\n',
  'R__parcel_summary.sql': 'CREATE OR REPLACE VIEW parcel_summary AS SELECT status, count(*) AS n FROM parcel GROUP BY status;\n',
};

describe('cross-check with real Flyway', () => {
  beforeAll(async () => {
    const out = path.join(os.tmpdir(), `outboxctl-flyway-cp-${process.pid}.txt`);
    await execa('mvn', ['-q', '-B', '-f', path.join(FLYWAY_DIR, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${out}`], { stdio: 'inherit' });
    classpath = (await readFile(out, 'utf8')).trim();
  }, 600_000);

  it('Flyway accepts what outboxctl migrated: valid, same ranks and checksums', async () => {
    const url = await freshDatabase('fw_ours');
    const dir = await migrationDir(fixtures);
    const locations = [path.join(ROOT, 'db', 'migration'), dir];
    const migrated = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(migrated.code, migrated.stderr).toBe(0);

    const validate = await flyway('validate', url, locations);
    expect(validate.stdout, validate.stderr).toContain('valid true');
    expect(validate.exitCode).toBe(0);

    const theirs = parseInfo((await flyway('info', url, locations)).stdout);
    const ours = (JSON.parse((await cli(['db', 'info', '--json', '--database-url', url, '--locations', dir])).stdout) as OurInfo).migrations;
    expect(theirs.map((r) => r.script)).toEqual([
      'V1__create_parcel.sql',
      'V2__create_outbox.sql',
      'V3__create_idempotency_key.sql',
      'V4__outbox_publication.sql',
      'V5__crlf_endings.sql',
      'V5_1__bom_and_unicode.sql',
      'nested/V10__ten.sql',
      'R__parcel_summary.sql',
    ]);
    expect(theirs.every((r) => r.state === 'Success')).toBe(true);
    expect(ours.map((m) => [String(m.installedRank), m.version ?? '', m.description, m.type, m.script, String(m.checksum), m.state])).toEqual(
      theirs.map((r) => [r.rank, r.version, r.description, r.type, r.script, r.checksum, r.state]),
    );
  });

  it('outboxctl accepts what Flyway migrated: valid, same rows', async () => {
    const url = await freshDatabase('fw_theirs');
    const dir = await migrationDir(fixtures);
    const locations = [path.join(ROOT, 'db', 'migration'), dir];
    const migrated = await flyway('migrate', url, locations);
    expect(migrated.stdout, migrated.stderr).toContain('migrated 8');

    const validate = await cli(['db', 'validate', '--database-url', url, '--locations', dir]);
    expect(validate.code, validate.stderr).toBe(0);
    const again = await cli(['db', 'migrate', '--database-url', url, '--locations', dir]);
    expect(again.stdout).toContain('no migration applied');

    const theirs = parseInfo((await flyway('info', url, locations)).stdout);
    const ours = (JSON.parse((await cli(['db', 'info', '--json', '--database-url', url, '--locations', dir])).stdout) as OurInfo).migrations;
    expect(ours.map((m) => [String(m.installedRank), m.version ?? '', m.description, m.type, m.script, String(m.checksum), m.state])).toEqual(
      theirs.map((r) => [r.rank, r.version, r.description, r.type, r.script, r.checksum, r.state]),
    );
  });

  it("Flyway sees outboxctl's repair of an edited script as valid", async () => {
    const url = await freshDatabase('fw_repair');
    const dir = await migrationDir({ 'V6__edit_me.sql': 'SELECT 1;\n' });
    const locations = [path.join(ROOT, 'db', 'migration'), dir];
    expect((await cli(['db', 'migrate', '--database-url', url, '--locations', dir])).code).toBe(0);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'V6__edit_me.sql'), 'SELECT 2;\n');
    const before = await flyway('validate', url, locations);
    expect(before.exitCode).toBe(1);
    expect((await cli(['db', 'repair', '--database-url', url, '--locations', dir])).code).toBe(0);
    const after = await flyway('validate', url, locations);
    expect(after.stdout, after.stderr).toContain('valid true');
  });
});
