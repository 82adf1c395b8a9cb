import { probeHealth, serveLaunch } from './embedded.js';
import type { Component } from './types.js';

/** The tracking server (`outboxctl serve tracking`) as a managed process. */
export const trackingService: Component = {
  name: 'tracking',
  summary: 'tracking server (parcels + transactional outbox)',
  version: 'embedded',
  dependsOn: ['postgres'],
  ports: [{ name: 'main', preferred: 8080 }],
  probe: 'GET /health answers 200',
  stopSignal: 'SIGTERM',
  stopGraceMs: 10_000,

  async launch(ctx) {
    // The database URL (with its password) goes through the environment, which only the
    // owner can read, not the command line, which every local user can.
    const extra = ['--no-migrate', ...(ctx.env.OUTBOX_DELETE_AFTER_INSERT === 'true' ? ['--outbox-delete-after-insert'] : [])];
    return serveLaunch(ctx, 'tracking', extra, { DATABASE_URL: ctx.endpoints.database! });
  },

  ready: (ctx) => probeHealth(ctx),

  endpointNames: ['tracking'],
  endpoints: async (ctx) => ({ tracking: `http://${ctx.clientHost}:${ctx.ports.main}` }),
};
