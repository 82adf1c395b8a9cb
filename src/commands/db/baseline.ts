import { baseline } from '../../migrations/engine.js';
import type { CommandContext } from '../context.js';
import { describeTarget, engineOptions, onDatabase } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const options = engineOptions(ctx);
  const version = String(ctx.flags.baselineVersion ?? '1');
  const description = String(ctx.flags.baselineDescription ?? '<< Flyway Baseline >>');
  await onDatabase(ctx, async (client, target) => {
    const row = await baseline(client, options, { version, description });
    if (ctx.json) {
      ctx.out.document({ database: describeTarget(target), baselineVersion: row.version, description: row.description });
      return;
    }
    ctx.out.result(`Baselined ${describeTarget(target)} at version ${row.version ?? version}.`);
  });
}
