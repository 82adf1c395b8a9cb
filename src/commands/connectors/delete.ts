import { UserError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { connectClient } from './shared.js';

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  const client = await connectClient(ctx);
  const existing = new Set(await client.names());
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length && ctx.flags.ifExists !== true) {
    throw new UserError(
      'CONNECTOR_MISSING',
      `Connector${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist on Kafka Connect at ${client.url}; nothing was deleted.`,
      {
        hint: 'Pass --if-exists to skip missing connectors.',
      },
    );
  }
  const deleted: string[] = [];
  for (const name of [...new Set(names)].filter((n) => existing.has(n))) {
    try {
      await client.delete(name);
      deleted.push(name);
    } catch (error) {
      // Deleted meanwhile by someone else: what --if-exists accepts anyway.
      if (!(error instanceof UserError && error.code === 'CONNECT_NOT_FOUND' && ctx.flags.ifExists === true)) throw error;
    }
  }
  if (ctx.json) {
    ctx.out.document({ deleted });
    return;
  }
  ctx.out.result(deleted.length ? `Deleted ${deleted.join(', ')}.` : 'Nothing to delete.');
}
