import { resolveEndpoint } from '../../lib/config.js';
import { UserError } from '../../lib/errors.js';
import { onInterrupt } from '../../lib/interrupt.js';
import { readState } from '../../stack/state.js';
import type { CommandContext } from '../context.js';
import { recordForegroundServer } from './record.js';
import { parsePort } from './tracking.js';

/** `outboxctl serve auditing`: the auditing server in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 5000);
  const host = String(flags.host ?? '127.0.0.1');
  const state = await readState(ctx.stack);
  const elasticsearchUrl = resolveEndpoint('elasticsearch', { flags, env: ctx.io.env, state }).value!;
  const { createAuditingServer } = await import('../../servers/auditing/app.js');
  const server = await createAuditingServer({ elasticsearchUrl, host, port }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE')
      throw new UserError('PORT_IN_USE', `Port ${port} on ${host} is already in use.`, { hint: 'Pass another --port (0 picks a free one).' });
    throw error;
  });
  const forget = await recordForegroundServer(ctx, 'auditing', host, server.url);
  onInterrupt(async () => {
    await server.close();
    await forget();
  });
  out.info(`auditing server listening on ${server.url} (Elasticsearch ${elasticsearchUrl}); Ctrl-C stops it`);
  out.result(server.url);
  await new Promise<never>(() => undefined);
}
