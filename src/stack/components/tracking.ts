import axios from 'axios';
import { fileURLToPath } from 'node:url';
import type { Component } from './types.js';

const BIN = fileURLToPath(new URL('../../../bin/outboxctl', import.meta.url));

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
    const args = [BIN, 'serve', 'tracking', '--managed', ctx.paths.dir, '--no-migrate', '--port', String(ctx.ports.main), '--host', ctx.host];
    if (ctx.env.OUTBOX_DELETE_AFTER_INSERT === 'true') args.push('--outbox-delete-after-insert');
    return { command: process.execPath, args, env: { NO_COLOR: '1', DATABASE_URL: ctx.endpoints.database! } };
  },

  async ready(ctx) {
    await axios.get(`http://${ctx.clientHost}:${ctx.ports.main}/health`, { timeout: 2_000 });
  },

  endpointNames: ['tracking'],
  endpoints: async (ctx) => ({ tracking: `http://${ctx.clientHost}:${ctx.ports.main}` }),
};
