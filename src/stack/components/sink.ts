import axios from 'axios';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Component } from './types.js';

const BIN = fileURLToPath(new URL('../../../bin/outboxctl', import.meta.url));

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
  probe: 'GET /health answers 200 (joined its consumer group)',
  stopSignal: 'SIGTERM',
  stopGraceMs: 15_000,

  async launch(ctx) {
    const args = [BIN, 'serve', 'sink', '--managed', ctx.paths.dir, '--port', String(ctx.ports.main), '--host', ctx.host, '--stack', ctx.paths.name];
    // The file `up` sees (a project's ./kafka-connectors/ first), whatever the sink's own directory.
    const { connectorDir } = await import('../../connectors/files.js');
    args.push('--connector-file', path.join(await connectorDir(process.cwd()), 'es-sink-connector.json'));
    return { command: process.execPath, args, env: { NO_COLOR: '1', OUTBOXCTL_HOME: ctx.paths.home, KAFKA_BOOTSTRAP_SERVERS: ctx.endpoints.kafka!, ELASTICSEARCH_URL: ctx.endpoints.elasticsearch! } };
  },

  async ready(ctx) {
    await axios.get(`http://${ctx.clientHost}:${ctx.ports.main}/health`, { timeout: 2_000 });
  },

  endpointNames: [],
  endpoints: async () => ({}),
};
