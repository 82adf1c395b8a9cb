import { type AppliedMigration, storedDescription } from './history.js';
import type { ResolvedMigration } from './scripts.js';
import { compareVersions, parseVersion, type Version, versionKey } from './version.js';

/** Flyway's MigrationState display names (the subset that applies without Teams features). */
export type MigrationState =
  | 'Pending'
  | 'Below Baseline'
  | 'Ignored (Baseline)'
  | 'Baseline'
  | 'Ignored'
  | 'Missing'
  | 'Failed (Missing)'
  | 'Success'
  | 'Failed'
  | 'Out of Order'
  | 'Future'
  | 'Failed (Future)'
  | 'Outdated'
  | 'Superseded'
  | 'Deleted';

export interface MigrationInfo {
  category: 'Versioned' | 'Repeatable' | '';
  version: string | null;
  description: string;
  type: string;
  script: string;
  state: MigrationState;
  resolved?: ResolvedMigration;
  applied?: AppliedMigration;
}

const SYNTHETIC = new Set(['BASELINE', 'SCHEMA', 'DELETE']);

/**
 * Merges what is on disk with what the history table says, as Flyway's info does:
 * applied rows in installed order, then pending versions, then pending repeatables.
 */
export function computeInfo(resolved: ResolvedMigration[], applied: AppliedMigration[]): MigrationInfo[] {
  const appliedVersion = (a: AppliedMigration): Version | undefined => (a.version === null ? undefined : parseVersion(a.version));
  const sameMigration = (a: AppliedMigration, b: AppliedMigration): boolean => {
    if (a.version === null || b.version === null) return a.version === b.version && a.description === b.description;
    return versionKey(appliedVersion(a)!) === versionKey(appliedVersion(b)!);
  };

  const deleted = new Set<number>();
  for (const marker of applied.filter((a) => a.type === 'DELETE')) {
    for (const a of applied) {
      if (a.installedRank < marker.installedRank && !SYNTHETIC.has(a.type) && sameMigration(a, marker)) deleted.add(a.installedRank);
    }
  }
  const live = applied.filter((a) => !SYNTHETIC.has(a.type) && !deleted.has(a.installedRank));

  const resolvedVersioned = new Map<string, ResolvedMigration>();
  const resolvedRepeatable = new Map<string, ResolvedMigration>();
  for (const r of resolved) {
    if (r.version) resolvedVersioned.set(versionKey(r.version), r);
    else resolvedRepeatable.set(r.description, r);
  }
  const lastResolved = resolved
    .filter((r) => r.version)
    .map((r) => r.version!)
    .sort(compareVersions)
    .pop();
  const baselineRow = applied.find((a) => a.type === 'BASELINE');
  const baseline = baselineRow ? appliedVersion(baselineRow) : undefined;

  const latestRepeatable = new Map<string, AppliedMigration>();
  for (const a of live) if (a.version === null) latestRepeatable.set(a.description, a);

  const rows: MigrationInfo[] = [];
  let highestApplied: Version | undefined;
  for (const a of applied) {
    const v = appliedVersion(a);
    const base = { version: a.version, description: a.description, type: a.type, script: a.script, applied: a };
    if (a.type === 'DELETE') {
      if (a.version === null) rows.push({ ...base, category: 'Repeatable', state: 'Success' });
      continue;
    }
    if (a.type === 'SCHEMA') {
      rows.push({ ...base, category: '', state: 'Success' });
      continue;
    }
    if (a.type === 'BASELINE') {
      rows.push({ ...base, category: 'Versioned', state: 'Baseline' });
      if (v && (!highestApplied || compareVersions(v, highestApplied) > 0)) highestApplied = v;
      continue;
    }
    if (deleted.has(a.installedRank)) {
      rows.push({ ...base, category: v ? 'Versioned' : 'Repeatable', state: 'Deleted' });
      continue;
    }
    if (v) {
      const r = resolvedVersioned.get(versionKey(v));
      let state: MigrationState;
      if (!r) {
        const missing = lastResolved !== undefined && compareVersions(v, lastResolved) < 0;
        state = a.success ? (missing ? 'Missing' : 'Future') : missing ? 'Failed (Missing)' : 'Failed (Future)';
      } else if (!a.success) state = 'Failed';
      else if (highestApplied && compareVersions(v, highestApplied) < 0) state = 'Out of Order';
      else state = 'Success';
      if (!highestApplied || compareVersions(v, highestApplied) > 0) highestApplied = v;
      rows.push({ ...base, category: 'Versioned', state, resolved: r });
    } else {
      const r = resolvedRepeatable.get(a.description);
      let state: MigrationState;
      if (!r) state = a.success ? 'Missing' : 'Failed (Missing)';
      else if (!a.success) state = 'Failed';
      else if (latestRepeatable.get(a.description) !== a) state = 'Superseded';
      else state = r.checksum === a.checksum ? 'Success' : 'Outdated';
      rows.push({ ...base, category: 'Repeatable', state, resolved: r });
    }
  }

  const appliedKeys = new Set(live.filter((a) => a.version !== null).map((a) => versionKey(appliedVersion(a)!)));
  for (const r of resolved) {
    const base = { version: r.version?.text ?? null, description: r.description, type: r.type, script: r.script, resolved: r };
    if (r.version) {
      if (appliedKeys.has(versionKey(r.version))) continue;
      let state: MigrationState = 'Pending';
      if (baseline && compareVersions(r.version, baseline) < 0) state = 'Below Baseline';
      else if (baseline && compareVersions(r.version, baseline) === 0) state = 'Ignored (Baseline)';
      else if (highestApplied && compareVersions(r.version, highestApplied) < 0) state = 'Ignored';
      rows.push({ ...base, category: 'Versioned', state });
    } else if (!latestRepeatable.has(r.description)) {
      rows.push({ ...base, category: 'Repeatable', state: 'Pending' });
    }
  }
  return rows;
}

/** What migrate would run, in order: pending versions, then pending or outdated repeatables. */
export function pendingMigrations(info: MigrationInfo[]): ResolvedMigration[] {
  const versioned = info.filter((i) => i.state === 'Pending' && i.resolved?.version).map((i) => i.resolved!);
  const repeatable = info
    .filter((i) => (i.state === 'Pending' || i.state === 'Outdated') && i.resolved && !i.resolved.version)
    .map((i) => i.resolved!)
    .sort((a, b) => (a.description < b.description ? -1 : a.description > b.description ? 1 : 0));
  return [...versioned.sort((a, b) => compareVersions(a.version!, b.version!)), ...repeatable];
}

export interface ValidationError {
  script: string;
  version: string | null;
  kind: 'failed' | 'missing' | 'pending' | 'ignored' | 'outdated' | 'checksum' | 'description' | 'type';
  message: string;
}

/**
 * Flyway's validation with its default ignore pattern (`*:future`); migrate validates with
 * `ignorePending` as Flyway's validateOnMigrate does.
 */
export function validateInfo(info: MigrationInfo[], options: { ignorePending?: boolean } = {}): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const i of info) {
    const id = i.version ?? i.description;
    const push = (kind: ValidationError['kind'], message: string) => errors.push({ script: i.script, version: i.version, kind, message });
    switch (i.state) {
      case 'Failed':
      case 'Failed (Missing)':
        push(
          'failed',
          i.version
            ? `Detected failed migration to version ${i.version} (${i.description}) in ${i.script}. Please remove any half-completed changes then run repair to fix the schema history.`
            : `Detected failed repeatable migration: ${i.description} (${i.script}). Please remove any half-completed changes then run repair to fix the schema history.`,
        );
        break;
      case 'Missing':
        push(
          'missing',
          `Detected applied migration not resolved locally: ${id} (${i.script}). If you removed this migration intentionally, run repair to mark the migration as deleted.`,
        );
        break;
      case 'Ignored':
        push(
          'ignored',
          `Detected resolved migration not applied to database: ${id} (${i.script}). It is older than the latest applied version, so migrate will not run it.`,
        );
        break;
      case 'Pending':
        if (!options.ignorePending) {
          push(
            'pending',
            i.version
              ? `Detected resolved migration not applied to database: ${id} (${i.script}). To fix this error, run migrate.`
              : `Detected resolved repeatable migration not applied to database: ${i.description} (${i.script}). To fix this error, run migrate.`,
          );
        }
        break;
      case 'Outdated':
        if (!options.ignorePending) {
          push(
            'outdated',
            `Detected outdated resolved repeatable migration that should be re-applied to database: ${i.description} (${i.script}). Run migrate to execute this migration.`,
          );
        }
        break;
      case 'Success':
      case 'Out of Order': {
        const a = i.applied;
        const r = i.resolved;
        if (!a || !r || a.version === null) break;
        const label = `migration version ${a.version} (${r.script})`;
        if (a.checksum !== r.checksum) {
          push(
            'checksum',
            `Migration checksum mismatch for ${label}: applied to database ${String(a.checksum)}, resolved locally ${r.checksum}. Either revert the changes to the migration, or run repair to update the schema history.`,
          );
        } else if (a.description !== storedDescription(r.description)) {
          push(
            'description',
            `Migration description mismatch for ${label}: applied to database "${a.description}", resolved locally "${r.description}". Either revert the changes to the migration, or run repair to update the schema history.`,
          );
        } else if (a.type !== r.type) {
          push(
            'type',
            `Migration type mismatch for ${label}: applied to database ${a.type}, resolved locally ${r.type}. Either revert the changes to the migration, or run repair to update the schema history.`,
          );
        }
        break;
      }
      default:
        break;
    }
  }
  return errors;
}
