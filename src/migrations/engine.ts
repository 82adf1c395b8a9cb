import { performance } from 'node:perf_hooks';
import type { PgClient, PgDatabaseError } from '../clients/pg.js';
import { UserError } from '../lib/errors.js';
import {
  type AppliedMigration,
  advisoryLockId,
  currentSchema,
  DEFAULT_TABLE,
  ensureTable,
  type HistoryTable,
  insertRowSql,
  qualified,
  readApplied,
  tableExists,
} from './history.js';
import { computeInfo, type MigrationInfo, pendingMigrations, type ValidationError, validateInfo } from './info.js';
import { planRepair, type RepairPlan } from './repair.js';
import { type ResolvedMigration, scanMigrations } from './scripts.js';
import { compareVersions, parseVersion, type Version } from './version.js';

export interface EngineOptions {
  locations: string[];
  schema?: string;
  table?: string;
}

export interface Snapshot {
  table: HistoryTable;
  resolved: ResolvedMigration[];
  applied: AppliedMigration[];
  info: MigrationInfo[];
  warnings: string[];
}

async function historyTable(client: PgClient, options: EngineOptions): Promise<HistoryTable> {
  return { schema: options.schema ?? (await currentSchema(client)), table: options.table ?? DEFAULT_TABLE };
}

/** Files on disk + rows in the history table, merged. */
export async function snapshot(client: PgClient, options: EngineOptions): Promise<Snapshot> {
  const table = await historyTable(client, options);
  const { migrations: resolved, warnings } = await scanMigrations(options.locations);
  const applied = await readApplied(client, table);
  return { table, resolved, applied, info: computeInfo(resolved, applied), warnings };
}

export function validate(snap: Snapshot): ValidationError[] {
  return validateInfo(snap.info);
}

/** Holds Flyway's advisory lock for the duration of `fn`, so concurrent runs (ours or Flyway's) serialize. */
async function withMigrationLock<T>(client: PgClient, table: HistoryTable, onWait: () => void, fn: () => Promise<T>): Promise<T> {
  const id = advisoryLockId(table).toString();
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [id]);
  if (!rows[0]?.locked) {
    onWait();
    await client.query('SELECT pg_advisory_lock($1::bigint)', [id]);
  }
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]).catch(() => undefined);
  }
}

export interface AppliedResult {
  version: string | null;
  description: string;
  script: string;
  executionTimeMs: number;
}

export interface MigrateEvents {
  onLockWait?: () => void;
  onApplying?: (m: ResolvedMigration) => void;
  onApplied?: (result: AppliedResult) => void;
}

export interface MigrateResult {
  applied: AppliedResult[];
  schemaVersion: string | null;
  createdTable: boolean;
}

function validationHint(errors: ValidationError[]): string {
  const kinds = new Set(errors.map((e) => e.kind));
  if (kinds.has('failed')) return 'Remove what the failed migration left, then run `outboxctl db repair` and migrate again.';
  if (kinds.has('checksum') || kinds.has('description') || kinds.has('type'))
    return 'Revert the script, or run `outboxctl db repair` to realign the history with the files.';
  if (kinds.has('missing')) return 'Restore the missing script, or run `outboxctl db repair` to mark it deleted.';
  if (kinds.has('ignored')) return 'A script older than the latest applied version cannot be applied: give it a higher version.';
  return 'Run `outboxctl db migrate`.';
}

function validationFailure(errors: ValidationError[]): UserError {
  const first = errors[0]!;
  return new UserError('VALIDATE_FAILED', `Validation failed: ${first.message}`, {
    details: errors.slice(1).map((e) => e.message),
    hint: validationHint(errors),
  });
}

export function assertValid(errors: ValidationError[]): void {
  if (errors.length > 0) throw validationFailure(errors);
}

/** Line of a 1-based character position in `text`. */
function lineAt(text: string, position: number): number {
  return text.slice(0, Math.max(0, position - 1)).split('\n').length;
}

/**
 * Applies pending migrations, each in its own transaction with its history row. A failed
 * script is rolled back entirely and recorded as a `success = false` row, which
 * `repair` removes.
 */
export async function migrate(client: PgClient, options: EngineOptions, events: MigrateEvents = {}): Promise<MigrateResult> {
  const table = await historyTable(client, options);
  return withMigrationLock(
    client,
    table,
    () => events.onLockWait?.(),
    async () => {
      const createdTable = await ensureTable(client, table);
      const snap = await snapshot(client, { ...options, schema: table.schema, table: table.table });
      assertValid(validateInfo(snap.info, { ignorePending: true }));
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS "user"');
      const installedBy = rows[0]!.user;
      let rank = snap.applied.reduce((max, a) => Math.max(max, a.installedRank), 0) + 1;
      const applied: AppliedResult[] = [];
      for (const m of pendingMigrations(snap.info)) {
        events.onApplying?.(m);
        const started = performance.now();
        const row = {
          installedRank: rank,
          version: m.version?.text ?? null,
          description: m.description,
          type: m.type,
          script: m.script,
          checksum: m.checksum,
          installedBy,
        };
        const transactional = !m.nonTransactional;
        if (transactional) await client.query('BEGIN');
        try {
          await client.query(m.sql);
          const executionTime = Math.floor(performance.now() - started);
          await client.query(insertRowSql(table, { ...row, executionTime, success: true }));
          if (transactional) await client.query('COMMIT');
          const result = { version: row.version, description: m.description, script: m.script, executionTimeMs: executionTime };
          applied.push(result);
          events.onApplied?.(result);
        } catch (error) {
          if (transactional) await client.query('ROLLBACK').catch(() => undefined);
          const executionTime = Math.floor(performance.now() - started);
          await client.query(insertRowSql(table, { ...row, executionTime, success: false })).catch(() => undefined);
          const e = error as PgDatabaseError;
          const where = e.position ? ` (line ${lineAt(m.sql, Number(e.position))})` : '';
          const outcome = transactional
            ? 'its changes were rolled back'
            : `it ran outside a transaction (${m.nonTransactional}), so remove what it changed by hand`;
          throw new UserError('MIGRATION_FAILED', `Migration ${m.script} failed${where}: ${e.message}; ${outcome}.`, {
            hint: 'Fix the script, run `outboxctl db repair` to clear the failed entry, then migrate again.',
            cause: error,
          });
        }
        rank++;
      }
      const after = await readApplied(client, table);
      return { applied, schemaVersion: currentVersion(after), createdTable };
    },
  );
}

/** The highest successfully applied version (baseline included). */
export function currentVersion(applied: AppliedMigration[]): string | null {
  let best: Version | undefined;
  for (const a of applied) {
    if (!a.success || a.version === null || a.type === 'DELETE') continue;
    const v = parseVersion(a.version);
    if (v && (!best || compareVersions(v, best) > 0)) best = v;
  }
  return best?.text ?? null;
}

export interface RepairResult extends RepairPlan {
  dryRun: boolean;
}

/** Flyway's repair in one transaction; with dryRun, only the plan (the exact SQL). */
export async function repair(client: PgClient, options: EngineOptions, dryRun: boolean): Promise<RepairResult> {
  const table = await historyTable(client, options);
  return withMigrationLock(
    client,
    table,
    () => undefined,
    async () => {
      if (!(await tableExists(client, table))) {
        throw new UserError('NO_HISTORY', `There is no schema history table ${qualified(table)} to repair.`, { hint: 'Run `outboxctl db migrate` first.' });
      }
      const snap = await snapshot(client, { ...options, schema: table.schema, table: table.table });
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS "user"');
      const plan = planRepair(snap.info, table, rows[0]!.user);
      if (!dryRun && plan.statements.length > 0) {
        await client.query(['BEGIN;', ...plan.statements, 'COMMIT;'].join('\n')).catch(async (error: unknown) => {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        });
      }
      return { ...plan, dryRun };
    },
  );
}

export interface BaselineOptions {
  version: string;
  description: string;
}

/** Flyway's baseline: rank 1, type BASELINE, on a schema without a history table (or an empty one). */
export async function baseline(client: PgClient, options: EngineOptions, b: BaselineOptions): Promise<AppliedMigration> {
  const version = parseVersion(b.version);
  if (!version)
    throw new UserError('BAD_VERSION', `Baseline version "${b.version}" is not a version.`, { hint: 'Use digits separated by dots, e.g. 1 or 2.1.' });
  const table = await historyTable(client, options);
  return withMigrationLock(
    client,
    table,
    () => undefined,
    async () => {
      await ensureTable(client, table);
      const applied = await readApplied(client, table);
      const existing = applied.find((a) => a.type === 'BASELINE');
      if (existing && existing.version === version.text && existing.description === b.description) return existing;
      if (existing) {
        throw new UserError('ALREADY_BASELINED', `The schema history ${qualified(table)} is already baselined at version ${existing.version ?? '?'}.`, {
          hint: 'Baseline works once, on a schema without migrations.',
        });
      }
      if (applied.some((a) => a.type !== 'SCHEMA')) {
        throw new UserError('NOT_EMPTY', `Cannot baseline ${qualified(table)}: it already contains migrations.`, {
          hint: 'Baseline is for an existing database that has no schema history yet.',
        });
      }
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS "user"');
      const installedRank = applied.reduce((max, a) => Math.max(max, a.installedRank), 0) + 1;
      await client.query(
        insertRowSql(table, {
          installedRank,
          version: version.text,
          description: b.description,
          type: 'BASELINE',
          script: b.description,
          checksum: null,
          installedBy: rows[0]!.user,
          executionTime: 0,
          success: true,
        }),
      );
      return (await readApplied(client, table)).find((a) => a.type === 'BASELINE')!;
    },
  );
}
