import axios from 'axios';
import { fileURLToPath } from 'node:url';
import type { Component } from './types.js';

const BIN = fileURLToPath(new URL('../../../bin/outboxctl', import.meta.url));

/** The auditing server (`outboxctl serve auditing`, the seed's Flask app on :5000) as a managed process. */
export const auditingService: Component = {
  name: 'auditing',
  summary: 'auditing server (queries and aggregations over Elasticsearch)',
  version: 'embedded',
  dependsOn: ['elasticsearch'],
  ports: [{ name: 'main', preferred: 5000 }],
  probe: 'GET /health answers',
  stopSignal: 'SIGTERM',
  stopGraceMs: 10_000,

  async launch(ctx) {
    const args = [BIN, 'serve', 'auditing', '--managed', ctx.paths.dir, '--port', String(ctx.ports.main), '--host', ctx.host, '--stack', ctx.paths.name];
    return { command: process.execPath, args, env: { NO_COLOR: '1', OUTBOXCTL_HOME: ctx.paths.home, ELASTICSEARCH_URL: ctx.endpoints.elasticsearch! } };
  },

  async ready(ctx) {
    // 503 (engine busy) still means the server answers; the engine has its own probe.
    await axios.get(`http://${ctx.clientHost}:${ctx.ports.main}/health`, { timeout: 2_000, validateStatus: (s) => s === 200 || s === 503 });
  },

  endpointNames: ['auditing'],
  endpoints: async (ctx) => ({ auditing: `http://${ctx.clientHost}:${ctx.ports.main}` }),
};
