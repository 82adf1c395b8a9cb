import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/errors.js';
import { parseSince } from '../tail/start.js';

/** The events verify judges: occurredAt in [fromMs, toMs] (fromMs null: from the beginning). */
export interface VerifyWindow {
  fromMs: number | null;
  toMs: number;
}

/**
 * Pure: --since (a duration ago or a timestamp) or --from-beginning. Without either, verify
 * reconciles from the beginning: a default window would call a pipeline that lost an old event
 * consistent, and what the stores no longer hold (pruned rows, expired records) is left out anyway.
 * The end is the moment verify starts, so events written meanwhile do not count against it.
 */
export function parseWindow(flags: { since?: unknown; fromBeginning?: unknown }, now: Date): VerifyWindow {
  if (flags.fromBeginning === true && flags.since !== undefined) throw new UsageError('--since and --from-beginning cannot be combined; choose one.');
  if (typeof flags.since !== 'string') return { fromMs: null, toMs: now.getTime() };
  const fromMs = parseSince(flags.since, now);
  if (fromMs > now.getTime()) throw new UsageError(`--since "${flags.since}" lies in the future.`, { hint: 'e.g. --since 10m (the last ten minutes)' });
  return { fromMs, toMs: now.getTime() };
}

/** Pure: --settle (default 30s); `0` judges the first pass as it is. */
export function parseSettle(text: unknown): number {
  if (text === undefined) return 30_000;
  const s = String(text).trim();
  if (/^0+(\.0+)?(ms|s|m)?$/.test(s)) return 0;
  return parseDuration(s, '--settle');
}
