import { assertValid, snapshot, validate } from '../../migrations/engine.js';
import type { CommandContext } from '../context.js';
import { describeTarget, engineOptions, onDatabase } from './shared.js';

export default async function run(ctx: CommandContext): Promise<number> {
  const options = engineOptions(ctx);
  return onDatabase(ctx, async (client, target) => {
    const snap = await snapshot(client, options);
    const errors = validate(snap);
    if (ctx.json) {
      ctx.out.document({ database: describeTarget(target), valid: errors.length === 0, migrations: snap.info.length, errors });
      return errors.length === 0 ? 0 : 1;
    }
    assertValid(errors);
    ctx.out.result(`Successfully validated ${snap.info.length} migration${snap.info.length === 1 ? '' : 's'}.`);
    return 0;
  });
}
