import ms from 'ms';
import { parseDuration } from '../../lib/duration.js';
import { UsageError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { describeTarget, onDatabase } from './shared.js';

/** No outbox row is older than this; far longer ages overflow PostgreSQL's interval and timestamp ranges. */
export const MAX_PRUNE_AGE_MS = 36_500 * 86_400_000;

/** `--older-than` as whole milliseconds (the query's bigint), at most MAX_PRUNE_AGE_MS; else a usage error. */
export function pruneAgeMs(text: string): number {
  const ageMs = parseDuration(text, '--older-than');
  if (ageMs > MAX_PRUNE_AGE_MS) {
    throw new UsageError(`--older-than "${text}" is longer than 100 years (36500d), older than any outbox row.`, {
      hint: 'Give an age such as 7d or 12h.',
    });
  }
  return Math.ceil(ageMs);
}

export default async function run(ctx: CommandContext): Promise<void> {
  const ageMs = pruneAgeMs(String(ctx.flags.olderThan));
  const dryRun = ctx.flags.dryRun === true;
  await onDatabase(ctx, async (client, target) => {
    const where = `occurred_at < (now() AT TIME ZONE 'UTC') - ($1::bigint * interval '1 millisecond')`;
    const { rows } = dryRun
      ? await client.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE ${where}`, [ageMs])
      : await client.query<{ n: string }>(`WITH gone AS (DELETE FROM outbox WHERE ${where} RETURNING 1) SELECT count(*) AS n FROM gone`, [ageMs]);
    const count = Number(rows[0]!.n);
    if (ctx.json) {
      ctx.out.document({ database: describeTarget(target), dryRun, olderThanMs: ageMs, [dryRun ? 'wouldDelete' : 'deleted']: count });
      return;
    }
    ctx.out.result(`${dryRun ? 'Would delete' : 'Deleted'} ${count} outbox row${count === 1 ? '' : 's'} older than ${ms(ageMs, { long: true })}.`);
  });
}
