import { renderTable } from '../../lib/table.js';
import { currentVersion, snapshot } from '../../migrations/engine.js';
import { qualified } from '../../migrations/history.js';
import type { MigrationInfo } from '../../migrations/info.js';
import type { CommandContext } from '../context.js';
import { describeTarget, engineOptions, onDatabase } from './shared.js';

export function infoJson(i: MigrationInfo) {
  return {
    category: i.category,
    version: i.version,
    description: i.description,
    type: i.type,
    script: i.script,
    state: i.state,
    checksum: i.applied?.checksum ?? i.resolved?.checksum ?? null,
    installedRank: i.applied?.installedRank ?? null,
    installedBy: i.applied?.installedBy ?? null,
    installedOn: i.applied?.installedOn.toISOString() ?? null,
    executionTimeMs: i.applied?.executionTime ?? null,
  };
}

export default async function run(ctx: CommandContext): Promise<void> {
  const options = engineOptions(ctx);
  await onDatabase(ctx, async (client, target) => {
    const snap = await snapshot(client, options);
    for (const w of snap.warnings) ctx.out.warn(w);
    const schemaVersion = currentVersion(snap.applied);
    if (ctx.json) {
      ctx.out.document({
        database: describeTarget(target),
        table: qualified(snap.table),
        schemaVersion,
        migrations: snap.info.map(infoJson),
      });
      return;
    }
    ctx.out.info(`Schema version: ${schemaVersion ?? '<< Empty Schema >>'} (${describeTarget(target)})`);
    if (snap.info.length === 0) {
      ctx.out.result('No migrations found.');
      return;
    }
    ctx.out.result(
      renderTable(snap.info, [
        { header: 'Category', value: (i) => i.category },
        { header: 'Version', value: (i) => i.version },
        { header: 'Description', value: (i) => i.description },
        { header: 'Type', value: (i) => i.type },
        { header: 'Installed On', value: (i) => i.applied?.installedOn.toISOString().replace('T', ' ').slice(0, 19) },
        { header: 'State', value: (i) => i.state },
      ]),
    );
  });
}
