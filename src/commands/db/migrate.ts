import { migrate } from '../../migrations/engine.js';
import type { CommandContext } from '../context.js';
import { describeTarget, engineOptions, onDatabase } from './shared.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const options = engineOptions(ctx);
  const { out } = ctx;
  await onDatabase(ctx, async (client, target) => {
    out.info(`Migrating ${describeTarget(target)}`);
    const result = await migrate(client, options, {
      onLockWait: () => out.info('waiting for another migration run to finish (advisory lock)'),
      onApplied: (m) => out.info(`  applied ${m.script} (${m.executionTimeMs} ms)`),
    });
    if (ctx.json) {
      out.document({ database: describeTarget(target), applied: result.applied, schemaVersion: result.schemaVersion });
      return;
    }
    const version = result.schemaVersion ?? '<none>';
    out.result(
      result.applied.length === 0
        ? `Schema is up to date at version ${version}; no migration applied.`
        : `Applied ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'}; schema now at version ${version}.`,
    );
  });
}
