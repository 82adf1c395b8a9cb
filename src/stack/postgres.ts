import { EnvironmentError } from '../lib/errors.js';
import { interruptible } from '../lib/interrupt.js';
import { postgresComponent as component, databaseUrl, postgresService } from './components/postgres.js';
import { stopServices } from './lifecycle.js';
import type { StackPaths } from './paths.js';
import { choosePort } from './ports.js';
import { loadRuntime } from './runtimes/index.js';
import { forgetService, hasInstance, isServiceAlive, probeService, serviceContext, startService } from './service.js';
import { readState, updateState } from './state.js';

export { databaseUrl };

export interface RunningPostgres {
  url: string;
  /** Runtime-neutral id of the instance (`pid 1234`). */
  id: string;
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
 * Makes the stack's PostgreSQL run, through the same component, runtime and start path as `up`:
 * initdb on first use, a free port when the usual one is taken, readiness by a real query, the
 * `outbox` database created. Call under the stack lock.
 */
export async function ensurePostgres(paths: StackPaths, options: StartOptions = {}): Promise<RunningPostgres> {
  const host = options.host ?? '127.0.0.1';
  const state = await readState(paths);
  const recorded = state?.services.postgres;
  const runtime = await loadRuntime(recorded?.runtime ?? state?.runtime ?? 'native');
  if (recorded && state && (await hasInstance(recorded))) {
    if (await isServiceAlive(recorded)) {
      // Someone else's (up's, a server's lease): used as it is, never stopped here; a slow one gets the whole timeout.
      const id = runtime.identify(recorded)?.id ?? '';
      if (!(await probeService(postgresService, paths, state, options.timeoutMs ?? 60_000))) {
        throw new EnvironmentError('POSTGRES_NOT_ANSWERING', `The stack's PostgreSQL (${id}) runs but did not answer a query; nothing was changed.`, {
          hint: 'See `outboxctl logs postgres`; `outboxctl restart postgres` starts it anew.',
        });
      }
      const url = state.endpoints.database ?? databaseUrl(host, recorded.ports.main!, state.secrets.postgresPassword ?? '');
      await recordOwner(paths, url, undefined);
      return { url, id, port: recorded.ports.main!, started: false };
    }
    await forgetService(paths, 'postgres', postgresService.endpointNames);
  }

  const previousPort = recorded?.ports.main;
  const preferred = [previousPort, component.defaultPort].filter((p): p is number => typeof p === 'number');
  const { port } = await choosePort(preferred, host);
  const replacedPort = port !== component.defaultPort && port !== previousPort ? preferred[0] : undefined;
  if (replacedPort !== undefined) options.onProgress?.(`port ${replacedPort} is in use; PostgreSQL takes ${port} instead`);
  options.onProgress?.(`starting PostgreSQL on ${host}:${port}`);

  const ctx = serviceContext(postgresService, {
    paths,
    env: process.env,
    host,
    ports: { main: port },
    endpoints: {},
    artifacts: {},
    onProgress: options.onProgress,
  });
  // Until this function returns, Ctrl-C stops what it started (and the exit waits for that); afterwards the caller decides.
  return interruptible(undefined, async (signal) => {
    const started = await startService(runtime, postgresService, ctx, { timeoutMs: options.timeoutMs ?? 60_000, signal });
    const url = started.endpoints.database!;
    await recordOwner(paths, url, options.owner ?? 'service');
    return { url, id: runtime.identify(started.service)?.id ?? '', port, started: true, replacedPort };
  });
}

async function recordOwner(paths: StackPaths, url: string, owner: 'command' | 'service' | undefined): Promise<void> {
  await updateState(paths, (s) => {
    const service = s.services.postgres;
    if (owner && service) service.owner = owner;
    s.endpoints.database = url;
  });
}

/** Stops the stack's PostgreSQL (if running) and forgets its endpoint; keeps the data. */
export async function stopPostgres(paths: StackPaths): Promise<boolean> {
  const [report] = await stopServices(paths, ['postgres']);
  await updateState(paths, (s) => {
    delete s.endpoints.database;
  });
  return report?.result === 'stopped' || report?.result === 'killed';
}
