import { redactUrl, resolveEndpoint, resolveToken } from '../../lib/config.js';
import { onInterrupt } from '../../lib/interrupt.js';
import { readState } from '../../stack/state.js';
import type { CommandContext } from '../context.js';
import { listening, parsePort } from './listen.js';
import { recordForegroundServer } from './record.js';

/** `outboxctl serve auditing`: the auditing server in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 5000);
  const host = String(flags.host ?? '127.0.0.1');
  const state = await readState(ctx.stack);
  const elasticsearchUrl = resolveEndpoint('elasticsearch', { flags, env: ctx.io.env, state }).value!;
  // A server takes its token from the flag or the environment only: the state's is for the clients.
  const token = resolveToken({ flags, env: ctx.io.env }).value;
  const { createAuditingServer } = await import('../../servers/auditing/app.js');
  const server = await listening(createAuditingServer({ elasticsearchUrl, host, port, token }), host, port);
  const forget = await recordForegroundServer(ctx, 'auditing', host, server.url);
  onInterrupt(async () => {
    await server.close();
    await forget();
  });
  out.info(
    `auditing server listening on ${server.url} (Elasticsearch ${redactUrl(elasticsearchUrl)}${token ? ', bearer token required' : ''}); Ctrl-C stops it`,
  );
  out.result(server.url);
  await new Promise<never>(() => undefined);
}
