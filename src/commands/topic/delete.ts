import { UserError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  const deleted = await withKafkaAdmin(ctx, async (admin) => {
    const existing = await Promise.all(names.map(async (n) => ((await admin.exists(n)) ? n : undefined)));
    const missing = names.filter((_, i) => existing[i] === undefined);
    if (missing.length && ctx.flags.ifExists !== true) {
      throw new UserError(
        'TOPIC_MISSING',
        `Topic${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist; nothing was deleted.`,
        { hint: 'Pass --if-exists to skip missing topics.' },
      );
    }
    const present = existing.filter((n): n is string => n !== undefined);
    if (present.length) await admin.delete(present);
    return present;
  });
  ctx.out.print({ deleted }, () => (deleted.length ? `Deleted ${deleted.join(', ')}.` : 'Nothing to delete.'));
}
