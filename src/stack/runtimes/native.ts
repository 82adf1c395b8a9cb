import { randomBytes } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { EndpointName } from '../../lib/config.js';
import { EnvironmentError } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import type { Component, ServiceContext, ServiceName } from '../components/types.js';
import type { StackPaths } from '../paths.js';
import { groupMembers, isGroupAlive, isRunning, processIdentity, spawnDetached, stopGroup, tailFile } from '../process.js';
import { listenerPids } from '../ports.js';
import { ReadinessTimeout, waitFor } from '../readiness.js';
import { readState, updateState, type ServiceState, type StackState } from '../state.js';

const log = createLogger('native');

export function serviceLogFile(paths: StackPaths, name: ServiceName): string {
  return path.join(paths.logDir, `${name}.log`);
}

export interface ContextInput {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  host: string;
  ports: Record<string, number>;
  endpoints: Partial<Record<EndpointName, string>>;
  artifacts: Record<string, string>;
  onProgress?: (message: string) => void;
}

/** The context a component describes itself in; secrets are created on first use. */
export function serviceContext(component: Component, input: ContextInput): ServiceContext {
  const clientHost = input.host === '0.0.0.0' || input.host === '::' ? '127.0.0.1' : input.host;
  return {
    paths: input.paths,
    env: input.env,
    host: input.host,
    clientHost,
    ports: input.ports,
    endpoints: input.endpoints,
    artifacts: input.artifacts,
    dataDir: path.join(input.paths.dataDir, component.name),
    configDir: path.join(input.paths.dir, 'config', component.name),
    onProgress: input.onProgress ?? (() => undefined),
    state: async () => (await readState(input.paths))!,
    secret: async (name) => {
      const existing = (await readState(input.paths))?.secrets[name];
      if (existing) return existing;
      const value = randomBytes(18).toString('base64url');
      await updateState(input.paths, (s) => {
        s.secrets[name] ??= value;
      });
      return (await readState(input.paths))!.secrets[name]!;
    },
  };
}

export interface StartedService {
  pid: number;
  endpoints: Partial<Record<EndpointName, string>>;
  seconds: number;
}

/**
 * Starts one component as a detached process group, records it in the state file, waits
 * for its readiness probe, and stops it again (with its log tail in the error) when the
 * probe does not pass in time.
 */
export async function startNative(component: Component, ctx: ServiceContext, timeoutMs: number, onSpawned?: (service: ServiceState) => void, signal?: AbortSignal): Promise<StartedService> {
  const started = Date.now();
  await mkdir(ctx.paths.logDir, { recursive: true });
  await mkdir(ctx.dataDir, { recursive: true });
  await component.prepare?.(ctx);
  const launch = await component.launch(ctx);
  const logFile = serviceLogFile(ctx.paths, component.name);
  await appendFile(logFile, `\n=== outboxctl: starting ${component.name} at ${new Date().toISOString()} ===\n`);
  let pid: number;
  try {
    pid = await spawnDetached(launch.command, launch.args, { logFile, cwd: launch.cwd, env: { ...ctx.env, ...launch.env } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EnvironmentError('COMMAND_MISSING', `Cannot start ${component.name}: \`${launch.command}\` was not found on PATH.`, { hint: 'Run `outboxctl doctor` to see what to install.' });
    }
    throw error;
  }
  log('%s started as pid %d: %s', component.name, pid, launch.command);
  const record: ServiceState = { pid, startId: processIdentity(pid) };
  onSpawned?.(record);
  await recordService(ctx.paths, component.name, {
    ...record,
    host: ctx.host,
    port: ctx.ports.main,
    ports: ctx.ports,
    version: component.version,
    startedAt: new Date().toISOString(),
    runtime: 'native',
  });
  try {
    await waitFor(() => component.ready(ctx, timeoutMs), {
      timeoutMs,
      intervalMs: 200,
      maxIntervalMs: 1_000,
      abortIf: () =>
        signal?.aborted ? new Error('interrupted') : isGroupAlive(pid) ? undefined : new Error(`${component.name} exited during start-up`),
    });
  } catch (error) {
    await stopNative(component, record);
    await forgetService(ctx.paths, component.name);
    const waited = error instanceof ReadinessTimeout ? error.waitedMs : Date.now() - started;
    const cause = error instanceof ReadinessTimeout ? error.lastError : error;
    const reason = error instanceof ReadinessTimeout
      ? `not ready after ${Math.round(waited / 1000)}s: ${component.probe} did not pass${cause instanceof Error ? ` (${cause.message})` : ''}`
      : `${(error as Error).message} (probe: ${component.probe})`;
    throw new EnvironmentError('SERVICE_NOT_READY', `Service ${component.name} ${reason}.`, {
      details: [`last lines of ${logFile}:`, ...(await tailFile(logFile, 50)).map((l) => `  ${l}`)],
      hint: `Its whole log: outboxctl logs ${component.name}`,
      cause: error,
    });
  }
  // The probe may have reached another process that took the port first (two stacks
  // starting at once): the main port must be held by this service's own process group.
  const holders = await listenerPids(ctx.ports.main!);
  const members = groupMembers(pid);
  if (holders && holders.length > 0 && !holders.some((p) => members.includes(p))) {
    await stopNative(component, record);
    await forgetService(ctx.paths, component.name);
    const who = holders.filter((p) => p > 0);
    throw new EnvironmentError('PORT_TAKEN', `Port ${ctx.ports.main} was taken by another process (${who.length ? `pid ${who.join(', ')}` : 'owner not visible'}) while ${component.name} started; ${component.name} was stopped.`, {
      hint: 'Run `outboxctl up` again: it picks a free port.',
    });
  }
  await component.afterReady?.(ctx);
  const endpoints = await component.endpoints(ctx);
  await updateState(ctx.paths, (s) => {
    Object.assign(s.endpoints, endpoints);
  });
  return { pid, endpoints, seconds: (Date.now() - started) / 1000 };
}

/** Stops a component's process (group): its own signal, a grace period, then SIGKILL; never a reused pid. */
export async function stopNative(component: Component, service: ServiceState): Promise<'stopped' | 'killed' | 'not-running' | 'stale'> {
  if (!service.pid) return 'not-running';
  if (!isServiceAlive(service)) return 'stale';
  return stopGroup(service.pid, {
    signal: component.stopSignal,
    graceMs: component.stopGraceMs,
    leaderOnly: component.stopSignal === 'SIGINT',
    single: service.group === false,
  });
}

/** Alive means: the recorded process (same boot, same start time) still runs. */
export function isServiceAlive(service: ServiceState | undefined): boolean {
  const pid = service?.pid;
  if (!pid) return false;
  if (service.startId && processIdentity(pid) !== service.startId) return false;
  return service.group === false ? isRunning(pid) : isGroupAlive(pid);
}

async function recordService(paths: StackPaths, name: ServiceName, service: ServiceState): Promise<void> {
  await updateState(paths, (s) => {
    s.runtime = 'native';
    s.services[name] = { ...s.services[name], ...service };
  });
}

/** Drops a service's pid and endpoints from the state (keeps its port for next time). */
export async function forgetService(paths: StackPaths, name: ServiceName, endpointNames: EndpointName[] = []): Promise<void> {
  await updateState(paths, (s) => {
    const service = s.services[name];
    if (service) {
      delete service.pid;
      delete service.startedAt;
    }
    for (const e of endpointNames) delete s.endpoints[e];
  });
}

/**
 * Is a recorded service alive and passing its readiness probe now? A slow answer is not a
 * crash: the probe gets a few seconds of retries. Used by `up` and `status` alike.
 */
export async function probeService(component: Component, paths: StackPaths, env: NodeJS.ProcessEnv, state: StackState, windowMs = 5_000): Promise<boolean> {
  const service = state.services[component.name];
  if (!isServiceAlive(service)) return false;
  const ports = (service?.ports as Record<string, number> | undefined) ?? { main: service?.port ?? 0 };
  const ctx = serviceContext(component, { paths, env, host: service?.host ?? '127.0.0.1', ports, endpoints: state.endpoints, artifacts: {} });
  try {
    await waitFor(() => component.ready(ctx, 3_000), { timeoutMs: windowMs, intervalMs: 250, abortIf: () => (isServiceAlive(service) ? undefined : new Error('gone')) });
    return true;
  } catch {
    return false;
  }
}
