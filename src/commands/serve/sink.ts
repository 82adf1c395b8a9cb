import path from 'node:path';
import type { ConnectorSpec } from '../../connectors/spec.js';
import { resolveHttpTarget, resolveKafkaTarget } from '../../lib/config.js';
import { onInterrupt } from '../../lib/interrupt.js';
import { createLogger } from '../../lib/logger.js';
import type { HttpTarget } from '../../lib/targets.js';
import { contextEnv } from '../connectors/shared.js';
import { type CommandContext, resolveInputOf } from '../context.js';
import { listening, parsePort } from './listen.js';

const log = createLogger('sink');

/** `outboxctl serve sink`: the embedded Elasticsearch sink in the foreground until Ctrl-C. */
export default async function run(ctx: CommandContext): Promise<void> {
  const { flags, out } = ctx;
  const port = parsePort(flags.port, 8084);
  const host = String(flags.host ?? '127.0.0.1');
  const input = await resolveInputOf(ctx);
  const bootstrap = resolveKafkaTarget(input);
  // Under a context its search engine (with its auth) replaces the file's connection.url, which is
  // rendered without the context (ELASTICSEARCH_URL or localhost): a context without one is a usage error.
  const contextSearch: HttpTarget | undefined = ctx.context ? resolveHttpTarget('elasticsearch', input) : undefined;
  const [{ loadSinkConnector }, { parseSinkConfig }, { SearchClient }, { EmbeddedSink }, { createSinkHealthServer }, { PARCELS_INDEX }] = await Promise.all([
    import('../../sink/connector-file.js'),
    import('../../sink/config.js'),
    import('../../clients/search.js'),
    import('../../sink/sink.js'),
    import('../../sink/health.js'),
    import('../../sink/index-templates.js'),
  ]);
  const connectorFile = typeof flags.connectorFile === 'string' ? flags.connectorFile : undefined;
  const file = ctx.context ? await contextSinkConnector(ctx, connectorFile) : await loadSinkConnector(ctx, connectorFile);
  const config = parseSinkConfig(file.name, file.config);
  const searchTarget: HttpTarget | string = contextSearch ?? config.connectionUrl;
  const search = await SearchClient.connect(searchTarget, { deadlineMs: 15_000 });
  const sink = new EmbeddedSink({
    config,
    bootstrap,
    search,
    projectionIndex: flags.projection === false ? undefined : PARCELS_INDEX,
    // In the stack's data: `down --volumes` forgets it together with the group; a context's is its own.
    memberFile: ctx.context
      ? path.join(ctx.stack.home, 'contexts', ctx.context.name, 'sink', `${config.groupId}.member-id`)
      : path.join(ctx.stack.dataDir, 'sink', `${config.groupId}.member-id`),
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
    `embedded sink ${config.name}: ${config.topics.join(', ')} → ${search.url} (group ${config.groupId}); health at ${health.url}/health; Ctrl-C stops it`,
  );
  out.result(health.url);
  await new Promise<never>(() => undefined);
}

/** The sink connector file under a context: rendered from the environment and the context's endpoints, no stack state. */
async function contextSinkConnector(ctx: CommandContext, file: string | undefined): Promise<ConnectorSpec> {
  const [{ connectorDir, loadConnectorFiles }, { connectorVariables }, { SINK_FILE }] = await Promise.all([
    import('../../connectors/files.js'),
    import('../../connectors/variables.js'),
    import('../../stack/tasks.js'),
  ]);
  const chosen = file ?? path.join(await connectorDir(ctx.io.cwd), SINK_FILE);
  const [spec] = await loadConnectorFiles([chosen], ctx.io.cwd, connectorVariables(ctx.stack.name, undefined, contextEnv(ctx), 'host'));
  return spec!;
}
