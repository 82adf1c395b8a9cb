import type { PgClient } from '../clients/pg.js';
import { quoteIdent, quoteLiteral } from '../clients/pg.js';

export const DEFAULT_TABLE = 'flyway_schema_history';

export interface HistoryTable {
  schema: string;
  table: string;
}

export interface AppliedMigration {
  installedRank: number;
  version: string | null;
  description: string;
  type: string;
  script: string;
  checksum: number | null;
  installedBy: string;
  installedOn: Date;
  executionTime: number;
  success: boolean;
}

export function qualified(t: HistoryTable): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

/** Flyway's own DDL for PostgreSQL, names of the constraint and index included. */
export function createTableSql(t: HistoryTable): string {
  const q = qualified(t);
  return [
    `CREATE TABLE ${q} (`,
    '    "installed_rank" INT NOT NULL,',
    '    "version" VARCHAR(50),',
    '    "description" VARCHAR(200) NOT NULL,',
    '    "type" VARCHAR(20) NOT NULL,',
    '    "script" VARCHAR(1000) NOT NULL,',
    '    "checksum" INTEGER,',
    '    "installed_by" VARCHAR(100) NOT NULL,',
    '    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),',
    '    "execution_time" INTEGER NOT NULL,',
    '    "success" BOOLEAN NOT NULL',
    ');',
    `ALTER TABLE ${q} ADD CONSTRAINT ${quoteIdent(`${t.table}_pk`)} PRIMARY KEY ("installed_rank");`,
    `CREATE INDEX ${quoteIdent(`${t.table}_s_idx`)} ON ${q} ("success");`,
  ].join('\n');
}

/** Flyway's advisory lock number: 0x466C79776179 ("Flyway") + Java's String.hashCode of the quoted table name. */
export function advisoryLockId(t: HistoryTable): bigint {
  const name = qualified(t);
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(31, hash) + name.charCodeAt(i)) | 0;
  return 77431708279161n + BigInt(hash);
}

export async function currentSchema(client: PgClient): Promise<string> {
  const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  return rows[0]?.schema ?? 'public';
}

export async function tableExists(client: PgClient, t: HistoryTable): Promise<boolean> {
  const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [qualified(t)]);
  return rows[0]?.oid != null;
}

export async function ensureTable(client: PgClient, t: HistoryTable): Promise<boolean> {
  if (await tableExists(client, t)) return false;
  await client.query(`BEGIN;\n${createTableSql(t)}\nCOMMIT;`);
  return true;
}

export async function readApplied(client: PgClient, t: HistoryTable): Promise<AppliedMigration[]> {
  if (!(await tableExists(client, t))) return [];
  const { rows } = await client.query<{
    installed_rank: number;
    version: string | null;
    description: string;
    type: string;
    script: string;
    checksum: number | null;
    installed_by: string;
    installed_on: Date;
    execution_time: number;
    success: boolean;
  }>(`SELECT * FROM ${qualified(t)} ORDER BY "installed_rank"`);
  return rows.map((r) => ({
    installedRank: r.installed_rank,
    version: r.version,
    description: r.description,
    type: r.type,
    script: r.script,
    checksum: r.checksum,
    installedBy: r.installed_by,
    installedOn: r.installed_on,
    executionTime: r.execution_time,
    success: r.success,
  }));
}

export interface NewRow {
  installedRank: number;
  version: string | null;
  description: string;
  type: string;
  script: string;
  checksum: number | null;
  installedBy: string;
  executionTime: number;
  success: boolean;
}

const literal = (v: string | number | boolean | null): string => (v === null ? 'NULL' : typeof v === 'string' ? quoteLiteral(v) : String(v));

/** Flyway's insert (installed_on takes its default); values inlined so a dry run prints what runs. */
export function insertRowSql(t: HistoryTable, row: NewRow): string {
  const values = [
    row.installedRank,
    row.version,
    truncate(row.description, 200),
    row.type,
    row.script,
    row.checksum,
    row.installedBy,
    row.executionTime,
    row.success,
  ];
  return `INSERT INTO ${qualified(t)} ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success") VALUES (${values.map(literal).join(', ')});`;
}

export function alignRowSql(t: HistoryTable, installedRank: number, description: string, type: string, checksum: number | null): string {
  return `UPDATE ${qualified(t)} SET "description" = ${literal(truncate(description, 200))}, "type" = ${literal(type)}, "checksum" = ${literal(checksum)} WHERE "installed_rank" = ${installedRank};`;
}

export function deleteFailedSql(t: HistoryTable, row: AppliedMigration): string {
  const which = row.version === null ? `"description" = ${literal(row.description)}` : `"version" = ${literal(row.version)}`;
  return `DELETE FROM ${qualified(t)} WHERE "success" = FALSE AND ${which};`;
}

/** Flyway cuts descriptions over 200 characters to 197 + "...". */
export function storedDescription(text: string): string {
  return truncate(text, 200);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
