import { redactUrl, resolveHttpTarget, resolveToken } from '../../lib/config.js';
import { onInterrupt } from '../../lib/interrupt.js';
import { httpAuthLabel } from '../../lib/targets.js';
import { type CommandContext, resolveInputOf } from '../context.js';
import { listening, parsePort } from './listen.js';
import { recordForegroundServer } from './record.js';

/** `outboxctl serve auditing`: the auditing server in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 5000);
  const host = String(flags.host ?? '127.0.0.1');
  // The whole target (a context's CA file, basic auth or API key) reaches the server's search client.
  const elasticsearch = resolveHttpTarget('elasticsearch', await resolveInputOf(ctx));
  // A server takes its token from the flag or the environment only: the state's is for the clients.
  const token = resolveToken({ flags, env: ctx.io.env }).value;
  const { createAuditingServer } = await import('../../servers/auditing/app.js');
  const server = await listening(createAuditingServer({ elasticsearch, host, port, token }), host, port);
  // A server started for a context is not the local stack's: its state file is not touched.
  const forget = ctx.context ? async () => undefined : await recordForegroundServer(ctx, 'auditing', host, server.url);
  onInterrupt(async () => {
    await server.close();
    await forget();
  });
  out.info(
    `auditing server listening on ${server.url} (Elasticsearch ${redactUrl(elasticsearch.url)} with ${httpAuthLabel(elasticsearch)}${token ? ', bearer token required' : ''}); Ctrl-C stops it`,
  );
  out.result(server.url);
  await new Promise<never>(() => undefined);
}
