import path from 'node:path';
import { resolveEndpoint } from '../../lib/config.js';
import { onInterrupt } from '../../lib/interrupt.js';
import { createLogger } from '../../lib/logger.js';
import { readState } from '../../stack/state.js';
import type { CommandContext } from '../context.js';
import { listening, parsePort } from './listen.js';

const log = createLogger('sink');

/** `outboxctl serve sink`: the embedded Elasticsearch sink in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 8084);
  const host = String(flags.host ?? '127.0.0.1');
  const state = await readState(ctx.stack);
  const bootstrap = resolveEndpoint('kafka', { flags, env: ctx.io.env, state }).value!;
  const [{ loadSinkConnector }, { parseSinkConfig }, { SearchClient }, { EmbeddedSink }, { createSinkHealthServer }, { PARCELS_INDEX }] = await Promise.all([
    import('../../sink/connector-file.js'),
    import('../../sink/config.js'),
    import('../../clients/search.js'),
    import('../../sink/sink.js'),
    import('../../sink/health.js'),
    import('../../sink/index-templates.js'),
  ]);
  const file = await loadSinkConnector(ctx, typeof flags.connectorFile === 'string' ? flags.connectorFile : undefined);
  const config = parseSinkConfig(file.name, file.config);
  const search = await SearchClient.connect(config.connectionUrl, { deadlineMs: 15_000 });
  const sink = new EmbeddedSink({
    config,
    bootstrap,
    search,
    projectionIndex: flags.projection === false ? undefined : PARCELS_INDEX,
    // In the stack's data: `down --volumes` forgets it together with the group.
    memberFile: path.join(ctx.stack.dataDir, 'sink', `${config.groupId}.member-id`),
    log: (level, message) => {
      if (level === 'debug') return log(message);
      if (level === 'info') out.info(message);
      else if (level === 'warn') out.warn(message);
      else out.info(`error: ${message}`);
      log(message);
    },
  });
  const health = await listening(createSinkHealthServer({ host, port, stats: () => sink.stats }), host, port);
  onInterrupt(async () => {
    await sink.stop();
    await health.close();
  });
  await sink.start();
  out.info(
    `embedded sink ${config.name}: ${config.topics.join(', ')} → ${config.connectionUrl} (group ${config.groupId}); health at ${health.url}/health; Ctrl-C stops it`,
  );
  out.result(health.url);
  await new Promise<never>(() => undefined);
}
