import { healthReadiness, serveLaunch, tokenEnv } from './embedded.js';
import type { Component } from './types.js';

/** The auditing server (`outboxctl serve auditing`, the seed's Flask app on :5000) as a managed process. */
export const auditingService: Component = {
  name: 'auditing',
  summary: 'auditing server (queries and aggregations over Elasticsearch)',
  version: 'embedded',
  dependsOn: ['elasticsearch'],
  ports: [{ name: 'main', preferred: 5000 }],
  // 503 (engine down) still means the server answers; the engine has its own probe.
  readiness: healthReadiness('GET /health answers', [200, 503]),
  env: (peers) => ({ ELASTICSEARCH_URL: peers.elasticsearch! }),

  endpointNames: ['auditing'],
  endpoints: async (at) => ({ auditing: `http://${at.host}:${at.ports.main}` }),

  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 10_000,
    async launch(ctx) {
      return serveLaunch(ctx, 'auditing', ['--stack', ctx.paths.name], { OUTBOXCTL_HOME: ctx.paths.home, ...(await tokenEnv(ctx)) });
    },
  },
};
