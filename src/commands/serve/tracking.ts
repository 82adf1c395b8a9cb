import { withPg } from '../../clients/pg.js';
import { redactUrl, resolveToken } from '../../lib/config.js';
import { onInterrupt } from '../../lib/interrupt.js';
import { migrate } from '../../migrations/engine.js';
import { createTrackingServer } from '../../servers/tracking/app.js';
import { leaseDatabase } from '../../stack/database.js';
import type { CommandContext } from '../context.js';
import { databaseRequest, engineOptions } from '../db/shared.js';
import { listening, parsePort } from './listen.js';
import { recordForegroundServer } from './record.js';

/** `outboxctl serve tracking`: the tracking server in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 8080);
  const host = String(flags.host ?? '127.0.0.1');
  const deleteAfterInsert = flags.outboxDeleteAfterInsert === true || ctx.io.env.OUTBOX_DELETE_AFTER_INSERT === 'true';
  // A server takes its token from the flag or the environment only: the state's is for the clients.
  const token = resolveToken({ flags, env: ctx.io.env }).value;

  const db = await leaseDatabase(databaseRequest(ctx));
  let server: Awaited<ReturnType<typeof createTrackingServer>>;
  try {
    if (flags.migrate !== false) {
      const result = await withPg(db.url, (client) => migrate(client, engineOptions(ctx)));
      if (result.applied.length > 0) out.info(`applied ${result.applied.length} migration(s); schema at version ${result.schemaVersion ?? '?'}`);
    }
    server = await listening(createTrackingServer({ databaseUrl: db.url, host, port, outboxDeleteAfterInsert: deleteAfterInsert, token }), host, port);
  } catch (error) {
    await db.release();
    throw error;
  }
  const url = server.url;
  // A server started for a context is not the local stack's: its state file is not touched.
  const forget = ctx.context ? async () => undefined : await recordForegroundServer(ctx, 'tracking', host, url);
  const shutdown = async () => {
    await server.close();
    await forget();
    await db.release();
  };
  onInterrupt(shutdown);
  out.info(
    `tracking server listening on ${url} (database ${redactUrl(db.url)}${deleteAfterInsert ? ', outbox delete-after-insert' : ''}${token ? ', bearer token required' : ''}); Ctrl-C stops it`,
  );
  out.result(url);
  // Runs until SIGINT/SIGTERM; the CLI's signal handler runs `shutdown`.
  await new Promise<never>(() => undefined);
}
