import { repair } from '../../migrations/engine.js';
import type { CommandContext } from '../context.js';
import { describeTarget, engineOptions, onDatabase } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const options = engineOptions(ctx);
  const dryRun = ctx.flags.dryRun === true;
  await onDatabase(ctx, async (client, target) => {
    const result = await repair(client, options, dryRun);
    const summary = {
      removedFailed: result.removedFailed.map((a) => a.script),
      markedDeleted: result.markedDeleted.map((a) => a.script),
      aligned: result.aligned.map((a) => a.applied.script),
    };
    if (ctx.json) {
      ctx.out.document({ database: describeTarget(target), dryRun, statements: result.statements, ...summary });
      return;
    }
    if (result.statements.length === 0) {
      ctx.out.result('Nothing to repair: the schema history matches the migration files.');
      return;
    }
    if (dryRun) {
      ctx.out.info('-- dry run: repair would execute, in one transaction:');
      ctx.out.result(result.statements.join('\n'));
      return;
    }
    for (const s of summary.removedFailed) ctx.out.info(`  removed failed entry ${s}`);
    for (const s of summary.markedDeleted) ctx.out.info(`  marked missing ${s} as deleted`);
    for (const s of summary.aligned) ctx.out.info(`  realigned ${s} with its file`);
    ctx.out.result(
      `Repaired the schema history: ${summary.removedFailed.length} failed removed, ${summary.markedDeleted.length} marked deleted, ${summary.aligned.length} realigned.`,
    );
  });
}
