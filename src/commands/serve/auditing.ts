import { redactUrl, resolveHttpTarget, resolveToken } from '../../lib/config.js';
import { onInterrupt } from '../../lib/interrupt.js';
import type { HttpTarget } from '../../lib/targets.js';
import { type CommandContext, resolveInputOf } from '../context.js';
import { listening, parsePort } from './listen.js';
import { recordForegroundServer } from './record.js';

/** `outboxctl serve auditing`: the auditing server in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 5000);
  const host = String(flags.host ?? '127.0.0.1');
  const elasticsearch = resolveHttpTarget('elasticsearch', await resolveInputOf(ctx));
  const elasticsearchUrl = withBasicAuth(elasticsearch);
  if (elasticsearch.apiKey || elasticsearch.tls?.caFile)
    out.warn("the auditing server reaches Elasticsearch by URL only: the context's API key and CA file are not used by it.");
  // A server takes its token from the flag or the environment only: the state's is for the clients.
  const token = resolveToken({ flags, env: ctx.io.env }).value;
  const { createAuditingServer } = await import('../../servers/auditing/app.js');
  const server = await listening(createAuditingServer({ elasticsearchUrl, host, port, token }), host, port);
  // A server started for a context is not the local stack's: its state file is not touched.
  const forget = ctx.context ? async () => undefined : await recordForegroundServer(ctx, 'auditing', host, server.url);
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

/** The server takes a URL: basic auth travels in its userinfo (messages print it through redactUrl). */
function withBasicAuth(target: HttpTarget): string {
  if (!target.basic) return target.url;
  const url = new URL(target.url);
  url.username = encodeURIComponent(target.basic.username);
  url.password = encodeURIComponent(target.basic.password);
  return url.toString();
}
