import { healthReadiness, serveLaunch } from './embedded.js';
import type { Component } from './types.js';

/** The tracking server (`outboxctl serve tracking`) as a managed process. */
export const trackingService: Component = {
  name: 'tracking',
  summary: 'tracking server (parcels + transactional outbox)',
  version: 'embedded',
  dependsOn: ['postgres'],
  ports: [{ name: 'main', preferred: 8080 }],
  readiness: healthReadiness('GET /health answers 200'),
  // The database URL (with its password) goes through the environment, which only the
  // owner can read, not the command line, which every local user can.
  env: (peers) => ({ DATABASE_URL: peers.database! }),

  endpointNames: ['tracking'],
  endpoints: async (at) => ({ tracking: `http://${at.host}:${at.ports.main}` }),

  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 10_000,
    async launch(ctx) {
      return serveLaunch(ctx, 'tracking', ['--no-migrate', ...(ctx.env.OUTBOX_DELETE_AFTER_INSERT === 'true' ? ['--outbox-delete-after-insert'] : [])]);
    },
  },
};
