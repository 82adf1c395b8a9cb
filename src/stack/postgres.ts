import path from 'node:path';
import { EnvironmentError } from '../lib/errors.js';
import { onInterrupt } from '../lib/interrupt.js';
import { databaseUrl, postgresComponent as component, postgresService } from './components/postgres.js';
import type { StackPaths } from './paths.js';
import { choosePort } from './ports.js';
import { isInitialized, postgresVersion, runningPostmaster, stopPostmaster } from './runtimes/native/embedded-postgres.js';
import { serviceContext, startNative } from './runtimes/native.js';
import { readState, updateState } from './state.js';

export { databaseUrl };

export function postgresDataDir(paths: StackPaths): string {
  return path.join(paths.dataDir, 'postgres');
}

export interface RunningPostgres {
  url: string;
  pid: number;
  port: number;
  /** True when this call started it (false: it was already running). */
  started: boolean;
  /** Set when the preferred port was taken and another was used. */
  replacedPort?: number;
}

export interface StartOptions {
  host?: string;
  timeoutMs?: number;
  onProgress?: (message: string) => void;
  /**
   * Who runs it: `command` (one db command, which stops it when done: other commands wait on
   * the stack lock instead of sharing it) or `service` (a long-running owner: others share it).
   */
  owner?: 'command' | 'service';
}

/**
 * Makes the stack's embedded PostgreSQL run, through the same component and runtime code as
 * `up`: initdb on first use, a free port when the usual one is taken, readiness by a real
 * query, the `outbox` database created. Call under the stack lock.
 */
export async function ensurePostgres(paths: StackPaths, options: StartOptions = {}): Promise<RunningPostgres> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = postgresDataDir(paths);
  const state = await readState(paths);
  const password = state?.secrets.postgresPassword;

  const running = await runningPostmaster(dataDir);
  if (running && password) {
    const url = databaseUrl(host, running.port, password);
    await recordOwner(paths, url, undefined);
    return { url, pid: running.pid, port: running.port, started: false };
  }
  if (isInitialized(dataDir) && !password) {
    throw new EnvironmentError('POSTGRES_PASSWORD_LOST', `The PostgreSQL data in ${dataDir} has no password in the stack's state file.`, {
      hint: `Delete ${dataDir} (its data is lost) or restore ${paths.stateFile}.`,
    });
  }

  const previousPort = state?.services.postgres?.port;
  const preferred = [previousPort, component.defaultPort].filter((p): p is number => typeof p === 'number');
  const { port } = await choosePort(preferred, host);
  const replacedPort = port !== component.defaultPort && port !== previousPort ? preferred[0] : undefined;
  if (replacedPort !== undefined) options.onProgress?.(`port ${replacedPort} is in use; PostgreSQL takes ${port} instead`);
  options.onProgress?.(`starting PostgreSQL on ${host}:${port}`);

  const ctx = serviceContext(postgresService, { paths, env: process.env, host, ports: { main: port }, endpoints: {}, artifacts: {}, onProgress: options.onProgress });
  // Until this function returns, Ctrl-C stops what it started; afterwards the caller decides.
  const forget = onInterrupt(() => stopPostmaster(dataDir, 5_000).then(() => undefined));
  try {
    const started = await startNative(postgresService, ctx, options.timeoutMs ?? 60_000);
    const url = started.endpoints.database!;
    await recordOwner(paths, url, options.owner ?? 'service', await postgresVersion().catch(() => undefined));
    return { url, pid: started.pid, port, started: true, replacedPort };
  } finally {
    forget();
  }
}

async function recordOwner(paths: StackPaths, url: string, owner: 'command' | 'service' | undefined, version?: string): Promise<void> {
  await updateState(paths, (s) => {
    const service = (s.services.postgres ??= {});
    if (owner) service.owner = owner;
    if (version) service.version = version;
    s.endpoints.database = url;
  });
}

/** Stops the stack's PostgreSQL (if running) and forgets its endpoint; keeps the data. */
export async function stopPostgres(paths: StackPaths): Promise<boolean> {
  const stopped = await stopPostmaster(postgresDataDir(paths));
  await updateState(paths, (s) => {
    if (s.services.postgres) {
      delete s.services.postgres.pid;
      delete s.services.postgres.owner;
    }
    delete s.endpoints.database;
  });
  return stopped;
}
