import ms from 'ms';
import { parseDuration } from '../../lib/duration.js';
import type { CommandContext } from '../context.js';
import { describeTarget, onDatabase } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const ageMs = parseDuration(String(ctx.flags.olderThan), '--older-than');
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
