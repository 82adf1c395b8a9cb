import { fileURLToPath } from 'node:url';
import type { Launch, Readiness, ServiceContext } from './types.js';

const BIN = fileURLToPath(new URL('../../../bin/outboxctl', import.meta.url));

/** `outboxctl serve <server> --managed …` on the service's port and address: how the embedded servers run under `up`. */
export function serveLaunch(ctx: ServiceContext, server: 'tracking' | 'sink' | 'auditing', extraArgs: string[], env: NodeJS.ProcessEnv = {}): Launch {
  return {
    command: process.execPath,
    args: [BIN, 'serve', server, '--managed', ctx.paths.dir, '--port', String(ctx.ports.main), '--host', ctx.host, ...extraArgs],
    env: { NO_COLOR: '1', ...env },
  };
}

/** Ready when `GET /health` on the service's port answers with one of `statuses`. */
export function healthReadiness(describe: string, statuses: number[] = [200]): Readiness {
  return { describe, check: { kind: 'http', path: '/health', statuses } };
}
