import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LOCAL } from '../../contexts/names.js';
import type { StackPaths } from '../paths.js';
import { readState, updateState } from '../state.js';
import type { Launch, Readiness, ServiceContext } from './types.js';

const BIN = fileURLToPath(new URL('../../../bin/outboxctl', import.meta.url));

/**
 * `outboxctl serve <server> --managed …` on the service's port and address: how the embedded servers
 * run under `up`. OUTBOXCTL_CONTEXT=local: a server of the local stack never picks up a context
 * (the config file's current-context, or one exported in the shell that ran `up`).
 */
export function serveLaunch(ctx: ServiceContext, server: 'tracking' | 'sink' | 'auditing', extraArgs: string[], env: NodeJS.ProcessEnv = {}): Launch {
  return {
    command: process.execPath,
    args: [BIN, 'serve', server, '--managed', ctx.paths.dir, '--port', String(ctx.ports.main), '--host', ctx.host, ...extraArgs],
    env: { NO_COLOR: '1', ...env, OUTBOXCTL_CONTEXT: LOCAL },
  };
}

/** Ready when `GET /health` on the service's port answers with one of `statuses`. */
export function healthReadiness(describe: string, statuses: number[] = [200]): Readiness {
  return { describe, check: { kind: 'http', path: '/health', statuses } };
}

/** The servers that demand the stack's bearer token once `up --token` turned it on. */
export const TOKEN_SERVICES = ['tracking', 'auditing'] as const;

/**
 * `up --token`: the stack's bearer token, made once (24 random bytes, base64url) and kept in the
 * state file (mode 0600) as `secrets.token` until `down --volumes` deletes the stack. Returns
 * whether this call made it (a server started before then runs without it).
 */
export async function enableStackToken(paths: StackPaths): Promise<boolean> {
  if ((await readState(paths))?.secrets.token) return false;
  let made = false;
  await updateState(paths, (s) => {
    if (s.secrets.token) return;
    s.secrets.token = randomBytes(24).toString('base64url');
    made = true;
  });
  return made;
}

/** OUTBOXCTL_TOKEN for a server of a stack whose token is on; nothing otherwise. */
export async function tokenEnv(ctx: ServiceContext): Promise<Record<string, string>> {
  const token = (await ctx.state())?.secrets.token;
  // Empty when off: a token exported in the shell that runs `up` must not turn it on behind the state's back.
  return { OUTBOXCTL_TOKEN: token ?? '' };
}
