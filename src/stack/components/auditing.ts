import { probeHealth, serveLaunch } from './embedded.js';
import type { Component } from './types.js';

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
    return serveLaunch(ctx, 'auditing', ['--stack', ctx.paths.name], { OUTBOXCTL_HOME: ctx.paths.home, ELASTICSEARCH_URL: ctx.endpoints.elasticsearch! });
  },

  // 503 (engine down) still means the server answers; the engine has its own probe.
  ready: (ctx) => probeHealth(ctx, [200, 503]),

  endpointNames: ['auditing'],
  endpoints: async (ctx) => ({ auditing: `http://${ctx.clientHost}:${ctx.ports.main}` }),
};
