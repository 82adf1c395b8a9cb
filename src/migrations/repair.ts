import { type AppliedMigration, alignRowSql, deleteFailedSql, type HistoryTable, insertRowSql, storedDescription } from './history.js';
import type { MigrationInfo } from './info.js';

export interface RepairPlan {
  /** Exactly what runs, in order, in one transaction. */
  statements: string[];
  removedFailed: AppliedMigration[];
  markedDeleted: AppliedMigration[];
  aligned: { applied: AppliedMigration; description: string; type: string; checksum: number }[];
}

/**
 * Flyway's repair, planned without touching the database: remove failed rows, mark
 * applied-but-missing migrations as deleted (a `DELETE` row), realign the checksum,
 * description and type of applied versioned migrations with their files.
 */
export function planRepair(info: MigrationInfo[], table: HistoryTable, installedBy: string): RepairPlan {
  const applied = info.map((i) => i.applied).filter((a): a is AppliedMigration => a !== undefined);
  let nextRank = applied.reduce((max, a) => Math.max(max, a.installedRank), 0) + 1;
  const plan: RepairPlan = { statements: [], removedFailed: [], markedDeleted: [], aligned: [] };

  const failed = applied.filter((a) => !a.success && a.type !== 'DELETE');
  const failedKeys = new Set<string>();
  for (const a of failed) {
    plan.removedFailed.push(a);
    const sql = deleteFailedSql(table, a);
    if (!failedKeys.has(sql)) plan.statements.push(sql);
    failedKeys.add(sql);
  }

  for (const i of info) {
    if (i.state !== 'Missing' || !i.applied) continue;
    const a = i.applied;
    plan.markedDeleted.push(a);
    plan.statements.push(
      insertRowSql(table, {
        installedRank: nextRank++,
        version: a.version,
        description: a.description,
        type: 'DELETE',
        script: a.script,
        checksum: a.checksum,
        installedBy,
        executionTime: 0,
        success: a.success,
      }),
    );
  }

  for (const i of info) {
    const a = i.applied;
    const r = i.resolved;
    if (!a || !r || a.version === null || !a.success || (i.state !== 'Success' && i.state !== 'Out of Order')) continue;
    if (a.checksum === r.checksum && a.description === storedDescription(r.description) && a.type === r.type) continue;
    plan.aligned.push({ applied: a, description: r.description, type: r.type, checksum: r.checksum });
    plan.statements.push(alignRowSql(table, a.installedRank, r.description, r.type, r.checksum));
  }
  return plan;
}
