import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../lib/errors.js';
import { flywayChecksum } from './checksum.js';
import { compareVersions, parseVersion, type Version, versionKey } from './version.js';

export interface ResolvedMigration {
  /** Undefined for repeatable migrations. */
  version?: Version;
  description: string;
  /** Path relative to its location, `/`-separated, as Flyway stores it. */
  script: string;
  type: 'SQL';
  checksum: number;
  /** Absolute path on disk. */
  file: string;
  sql: string;
  /** Holds a statement PostgreSQL refuses inside a transaction (e.g. CREATE INDEX CONCURRENTLY). */
  nonTransactional?: string;
}

export type ParsedName =
  | { kind: 'versioned'; version: Version; description: string }
  | { kind: 'repeatable'; description: string }
  | { kind: 'ignored' }
  | { kind: 'invalid'; reason: string };

/** Flyway's naming: `V<version>__<description>.sql` and `R__<description>.sql`; `_` in a description reads as a space. */
export function parseScriptName(fileName: string): ParsedName {
  if (!fileName.toLowerCase().endsWith('.sql')) return { kind: 'ignored' };
  const prefix = fileName[0];
  if (prefix !== 'V' && prefix !== 'R') return { kind: 'ignored' };
  const base = fileName.slice(1, -'.sql'.length);
  const sep = base.indexOf('__');
  if (sep < 0) return { kind: 'invalid', reason: 'the description must follow "__" (two underscores)' };
  const description = base.slice(sep + 2).replace(/_/g, ' ');
  const versionText = base.slice(0, sep);
  if (prefix === 'R') {
    if (versionText !== '') return { kind: 'invalid', reason: 'a repeatable migration has no version (R__description.sql)' };
    return { kind: 'repeatable', description };
  }
  const version = parseVersion(versionText);
  if (!version) return { kind: 'invalid', reason: `"${versionText}" is not a version (digits separated by "." or "_")` };
  return { kind: 'versioned', version, description };
}

/** The migrations shipped with outboxctl: tables `parcel` and `outbox`. */
export function defaultLocation(): string {
  return fileURLToPath(new URL('../../db/migration', import.meta.url));
}

/** Accepts Flyway's `filesystem:` prefix; relative paths are taken from `cwd`. */
export function normalizeLocation(location: string, cwd: string): string {
  const bare = location.startsWith('filesystem:') ? location.slice('filesystem:'.length) : location;
  if (bare.startsWith('classpath:')) {
    throw new UserError('BAD_LOCATION', `Location "${location}" is a Java classpath location, which outboxctl cannot read.`, {
      hint: 'Give a directory path (optionally as filesystem:PATH).',
    });
  }
  return path.resolve(cwd, bare);
}

async function listSqlFiles(root: string, dir = root): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && dir === root) {
      throw new UserError('BAD_LOCATION', `Migration location ${root} ${code === 'ENOENT' ? 'does not exist' : 'is not a directory'}.`, {
        hint: 'Check --locations.',
      });
    }
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    // Follow symbolic links, as Flyway does.
    const kind = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
    if (kind?.isDirectory()) files.push(...(await listSqlFiles(root, full)));
    else if (kind?.isFile()) files.push(full);
  }
  return files;
}

export interface ScanResult {
  migrations: ResolvedMigration[];
  /** Files that look like migrations but are misnamed (Flyway skips them too). */
  warnings: string[];
}

/** Reads every location; versioned migrations by version, then repeatables by description. */
export async function scanMigrations(locations: string[]): Promise<ScanResult> {
  const migrations: ResolvedMigration[] = [];
  const warnings: string[] = [];
  for (const root of locations) {
    for (const file of (await listSqlFiles(root)).sort()) {
      const parsed = parseScriptName(path.basename(file));
      const script = path.relative(root, file).split(path.sep).join('/');
      if (parsed.kind === 'ignored') continue;
      if (parsed.kind === 'invalid') {
        warnings.push(`Skipping ${file}: ${parsed.reason}.`);
        continue;
      }
      const content = await readFile(file);
      migrations.push({
        version: parsed.kind === 'versioned' ? parsed.version : undefined,
        description: parsed.description,
        script,
        type: 'SQL',
        checksum: flywayChecksum(content),
        file,
        sql: stripBom(content.toString('utf8')),
        nonTransactional: nonTransactionalStatement(content.toString('utf8')),
      });
    }
  }
  const seen = new Map<string, ResolvedMigration>();
  for (const m of migrations) {
    const key = m.version ? `V${versionKey(m.version)}` : `R${m.description}`;
    const other = seen.get(key);
    if (other) {
      const what = m.version ? `version ${m.version.text}` : `repeatable migration "${m.description}"`;
      throw new UserError('DUPLICATE_MIGRATION', `Found more than one migration with ${what}: ${other.file} and ${m.file}.`, {
        hint: 'Rename one of them so every version (and repeatable description) is unique.',
      });
    }
    seen.set(key, m);
  }
  return { migrations: migrations.sort(compareResolved), warnings };
}

export function compareResolved(a: ResolvedMigration, b: ResolvedMigration): number {
  if (a.version && b.version) return compareVersions(a.version, b.version);
  if (a.version) return -1;
  if (b.version) return 1;
  return a.description < b.description ? -1 : a.description > b.description ? 1 : 0;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const NON_TRANSACTIONAL =
  /\b(CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\b[^;]*\bCONCURRENTLY|VACUUM|ALTER\s+SYSTEM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+TYPE\s+\S+\s+ADD\s+VALUE)\b/i;

/** The first statement that cannot run in a transaction, ignoring comments and string literals. */
export function nonTransactionalStatement(sql: string): string | undefined {
  const code = sql
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
  return NON_TRANSACTIONAL.exec(code)?.[1]?.replace(/\s+/g, ' ').toUpperCase();
}
