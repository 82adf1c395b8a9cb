import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { connectPg, quoteIdent, withPg } from '../clients/pg.js';
import { EnvironmentError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { databaseUrl, postgresComponent as component } from './components/postgres.js';

export { databaseUrl };
import type { StackPaths } from './paths.js';
import { choosePort } from './ports.js';
import { isAlive } from './process.js';
import { onInterrupt } from '../lib/interrupt.js';
import { waitFor, ReadinessTimeout } from './readiness.js';
import {
  initCluster,
  isInitialized,
  postgresVersion,
  runningPostmaster,
  startPostmaster,
  stopPostmaster,
  tailFile,
} from './runtimes/native/embedded-postgres.js';
import { readState, updateState, type StackState } from './state.js';

const log = createLogger('postgres');

export function postgresDataDir(paths: StackPaths): string {
  return path.join(paths.dataDir, 'postgres');
}

export function postgresLogFile(paths: StackPaths): string {
  return path.join(paths.logDir, 'postgres.log');
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
 * Makes the stack's embedded PostgreSQL run: initdb on first use, a free port when the
 * usual one is taken, readiness by a real query, the `outbox` database created.
 * Call under the stack lock.
 */
export async function ensurePostgres(paths: StackPaths, options: StartOptions = {}): Promise<RunningPostgres> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = postgresDataDir(paths);
  const state = await readState(paths);
  let password = state?.secrets.postgresPassword;

  const running = await runningPostmaster(dataDir);
  if (running && password) {
    const url = databaseUrl(host, running.port, password);
    await recordRunning(paths, { pid: running.pid, port: running.port, host, url });
    return { url, pid: running.pid, port: running.port, started: false };
  }

  if (!isInitialized(dataDir)) {
    password = randomBytes(18).toString('base64url');
    options.onProgress?.(`initializing PostgreSQL data directory ${dataDir}`);
    await initCluster(dataDir, component.superuser, password);
    await updateState(paths, (s) => {
      s.secrets.postgresPassword = password!;
    });
  } else if (!password) {
    throw new EnvironmentError('POSTGRES_PASSWORD_LOST', `The PostgreSQL data in ${dataDir} has no password in the stack's state file.`, {
      hint: `Delete ${dataDir} (its data is lost) or restore ${paths.stateFile}.`,
    });
  }

  const previousPort = state?.services.postgres?.port;
  const preferred = [previousPort, component.defaultPort].filter((p): p is number => typeof p === 'number');
  const { port } = await choosePort(preferred, host);
  const replacedPort = port !== component.defaultPort && port !== previousPort ? preferred[0] : undefined;
  const logFile = postgresLogFile(paths);
  if (replacedPort !== undefined) options.onProgress?.(`port ${replacedPort} is in use; PostgreSQL takes ${port} instead`);
  options.onProgress?.(`starting PostgreSQL on ${host}:${port}`);
  const pid = await startPostmaster(dataDir, port, host, logFile, component.serverArgs);
  log('postmaster pid %d on port %d', pid, port);
  // Until this function returns, Ctrl-C stops what it started; afterwards the caller decides.
  const forget = onInterrupt(() => stopPostmaster(dataDir, 5_000).then(() => undefined));
  try {
    return await afterStart(paths, { dataDir, pid, port, host, password: password!, logFile, replacedPort, options });
  } finally {
    forget();
  }
}

interface Started {
  dataDir: string;
  pid: number;
  port: number;
  host: string;
  password: string;
  logFile: string;
  replacedPort?: number;
  options: StartOptions;
}

async function afterStart(paths: StackPaths, { dataDir, pid, port, host, password, logFile, replacedPort, options }: Started): Promise<RunningPostgres> {
  const adminUrl = databaseUrl(host, port, password, 'postgres');
  try {
    await waitFor(
      async () => {
        const client = await connectPg(adminUrl, { connectTimeoutMs: 2_000 });
        await client.end();
      },
      {
        timeoutMs: options.timeoutMs ?? 60_000,
        intervalMs: 50,
        abortIf: () => (isAlive(pid) ? undefined : new Error('PostgreSQL exited during start-up')),
      },
    );
  } catch (error) {
    await stopPostmaster(dataDir, 5_000).catch(() => undefined);
    const reason = error instanceof ReadinessTimeout ? `did not accept connections within ${error.waitedMs}ms` : 'exited during start-up';
    throw new EnvironmentError('POSTGRES_START_FAILED', `PostgreSQL ${reason} (log: ${logFile}).`, {
      details: await tailFile(logFile, 50),
      hint: 'The log lines above say why.',
      cause: error,
    });
  }
  await withPg(adminUrl, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [component.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(component.database)}`);
  });
  const url = databaseUrl(host, port, password);
  const version = await postgresVersion().catch(() => undefined);
  await recordRunning(paths, { pid, port, host, url, version, owner: options.owner ?? 'service' });
  return { url, pid, port, started: true, replacedPort };
}

interface RunningRecord {
  pid: number;
  port: number;
  host: string;
  url: string;
  version?: string;
  owner?: 'command' | 'service';
}

async function recordRunning(paths: StackPaths, r: RunningRecord): Promise<void> {
  await updateState(paths, (s: StackState) => {
    const previous = s.services.postgres ?? {};
    s.services.postgres = {
      ...previous,
      pid: r.pid,
      port: r.port,
      host: r.host,
      version: r.version ?? previous.version,
      owner: r.owner ?? previous.owner ?? 'service',
      startedAt: previous.pid === r.pid ? previous.startedAt : new Date().toISOString(),
    };
    s.endpoints.database = r.url;
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
