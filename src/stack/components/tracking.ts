import { healthReadiness, serveLaunch, tokenEnv } from './embedded.js';
import { ensureTrackingRole, TRACKING_ROLE } from './postgres.js';
import type { Component, ServiceContext } from './types.js';

/** Delete-after-insert, as `serve tracking` reads it from the environment. */
const deleteAfterInsert = (ctx: ServiceContext) => ctx.env.OUTBOX_DELETE_AFTER_INSERT === 'true';

/** The stack's database URL (the owner's), with the tracking role and its password instead. */
export function trackingDatabaseUrl(ownerUrl: string, password: string): string {
  const url = new URL(ownerUrl);
  url.username = TRACKING_ROLE;
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** The tracking server (`outboxctl serve tracking`) as a managed process. */
export const trackingService: Component = {
  name: 'tracking',
  summary: 'tracking server (parcels + transactional outbox)',
  version: 'embedded',
  dependsOn: ['postgres'],
  ports: [{ name: 'main', preferred: 8080 }],
  readiness: healthReadiness('GET /health answers 200'),

  endpointNames: ['tracking'],
  endpoints: async (at) => ({ tracking: `http://${at.host}:${at.ports.main}` }),

  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 10_000,
    // Before every start: the role exactly as this start needs it (delete-after-insert may differ from the last one).
    async prepare(ctx) {
      await ensureTrackingRole(ctx.endpoints.database!, await ctx.secret('trackingPassword'), { deleteAfterInsert: deleteAfterInsert(ctx) });
    },
    async launch(ctx) {
      return serveLaunch(ctx, 'tracking', ['--no-migrate', ...(deleteAfterInsert(ctx) ? ['--outbox-delete-after-insert'] : [])], {
        // Its own role, never the owner's. The URL (with its password) goes through the environment,
        // which only the owner can read, not the command line, which every local user can.
        DATABASE_URL: trackingDatabaseUrl(ctx.endpoints.database!, await ctx.secret('trackingPassword')),
        ...(await tokenEnv(ctx)),
      });
    },
  },
};
