import path from 'node:path';
import { healthReadiness, serveLaunch } from './embedded.js';
import type { Component } from './types.js';

/**
 * The embedded Elasticsearch sink (`outboxctl serve sink`) as a managed process: it reads the
 * same es-sink-connector.json that Connect would, for stacks whose Connect lacks Confluent's plugin.
 */
export const sinkService: Component = {
  name: 'sink',
  summary: 'embedded Elasticsearch sink (parcel.outbox → events + parcels)',
  version: 'embedded',
  dependsOn: ['kafka', 'elasticsearch'],
  ports: [{ name: 'main', preferred: 8084 }],
  readiness: healthReadiness('GET /health answers 200 (joined its consumer group)'),
  env: (peers) => ({ KAFKA_BOOTSTRAP_SERVERS: peers.kafka!, ELASTICSEARCH_URL: peers.elasticsearch! }),

  endpointNames: [],
  endpoints: async () => ({}),

  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 15_000,
    async launch(ctx) {
      // The file `up` sees (a project's ./kafka-connectors/ first), whatever the sink's own directory.
      const { connectorDir } = await import('../../connectors/files.js');
      const file = path.join(await connectorDir(process.cwd()), 'es-sink-connector.json');
      return serveLaunch(ctx, 'sink', ['--stack', ctx.paths.name, '--connector-file', file], { OUTBOXCTL_HOME: ctx.paths.home });
    },
  },
};
