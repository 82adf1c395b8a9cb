import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EndpointName } from '../lib/config.js';
import { EnvironmentError } from '../lib/errors.js';
import type { Component, EndpointContext, Endpoints, ProbeContext, ServiceContext, ServiceName } from './components/types.js';
import type { StackPaths } from './paths.js';
import { checkReadiness, ReadinessTimeout, waitFor } from './readiness.js';
import { type Runtime, runtimeOf, type StopResult } from './runtimes/index.js';
import { readState, type ServiceState, type StackState, updateState } from './state.js';

export interface ContextInput {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  host: string;
  ports: Record<string, number>;
  endpoints: Endpoints;
  artifacts: Record<string, string>;
  onProgress?: (message: string) => void;
}

/** The generated secret `name` of the stack, created (and kept in the state file) on first use. */
export async function stackSecret(paths: StackPaths, name: string): Promise<string> {
  const existing = (await readState(paths))?.secrets[name];
  if (existing) return existing;
  const value = randomBytes(18).toString('base64url');
  const state = await updateState(paths, (s) => {
    s.secrets[name] ??= value;
  });
  return state.secrets[name]!;
}

/** The address a client uses for a service bound to `host` (127.0.0.1 for a wildcard). */
export const clientHostOf = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

/** The context a component describes its start in. */
export function serviceContext(component: Component, input: ContextInput): ServiceContext {
  return {
    paths: input.paths,
    env: input.env,
    host: input.host,
    clientHost: clientHostOf(input.host),
    ports: input.ports,
    endpoints: input.endpoints,
    artifacts: input.artifacts,
    dataDir: path.join(input.paths.dataDir, component.name),
    configDir: path.join(input.paths.dir, 'config', component.name),
    onProgress: input.onProgress ?? (() => undefined),
    state: async () => (await readState(input.paths))!,
    secret: (name) => stackSecret(input.paths, name),
  };
}

/** The service as the host reaches it, for its endpoints and readiness probe. */
function hostView(paths: StackPaths, runtime: Runtime, name: ServiceName, at: { host: string; ports: Record<string, number> }): ProbeContext {
  return {
    host: clientHostOf(at.host),
    ports: at.ports,
    secret: (secret) => stackSecret(paths, secret),
    // Only this start's output: a line of an earlier run must not pass a log check.
    logs: async () => (await runtime.logs(paths, name, { tail: 200, sinceStart: true })) ?? [],
  };
}

export interface StartedService {
  service: ServiceState;
  /** The host's view, recorded in the state file. */
  endpoints: Endpoints;
  /** Where the other services of the stack reach it. */
  peerEndpoints: Endpoints;
  seconds: number;
}

export interface StartOptions {
  timeoutMs: number;
  /** Called once it exists, before readiness: a caller that is interrupted can stop it. */
  onCreated?: (service: ServiceState) => void;
  signal?: AbortSignal;
}

/**
 * Starts one component through a runtime, records it in the state file, waits for its readiness
 * (data, evaluated from the host), and undoes the start (with the log tail in the error) when the
 * probe does not pass in time or what answered is not this service.
 */
export async function startService(runtime: Runtime, component: Component, ctx: ServiceContext, options: StartOptions): Promise<StartedService> {
  const started = Date.now();
  const service = await runtime.create(component, ctx);
  options.onCreated?.(service);
  await recordService(ctx.paths, component.name, { ...service, version: component.version, startedAt: new Date().toISOString() });
  const view = hostView(ctx.paths, runtime, component.name, { host: ctx.host, ports: ctx.ports });
  const undo = async () => {
    await runtime.stop(component, service);
    await forgetService(ctx.paths, component.name, component.endpointNames);
  };
  try {
    await waitFor(() => checkReadiness(component.readiness, view), {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      // Often first: most services are ready within seconds, and each pause past that is time lost.
      intervalMs: 100,
      maxIntervalMs: 500,
      abortIf: async () =>
        options.signal?.aborted
          ? new Error('interrupted')
          : (await runtime.isAlive(service))
            ? undefined
            : new Error(`${component.name} exited during start-up`),
    });
  } catch (error) {
    // The log first: a removed container takes its log with it.
    const failure = await notReady(runtime, component, ctx.paths, error, Date.now() - started);
    await undo();
    throw failure;
  }
  // What answered must be this service, and what follows must complete: otherwise nothing stays running.
  try {
    await runtime.verify(component, ctx, service);
    const after = await component.afterReady?.(view);
    const endpoints = await component.endpoints(view);
    const peerEndpoints = await peerEndpointsOf(runtime, component, view);
    await updateState(ctx.paths, (s) => {
      Object.assign(s.endpoints, endpoints);
      // Connect in a container registers connectors with these (see connectors/variables.ts).
      if (runtime.name === 'docker') s.networkEndpoints = { ...s.networkEndpoints, ...peerEndpoints };
      const recorded = s.services[component.name];
      if (recorded && after?.version) recorded.version = after.version;
    });
    return { service, endpoints, peerEndpoints, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** A service's endpoints as the other services of the stack reach it. */
export function peerEndpointsOf(runtime: Runtime, component: Component, host: EndpointContext): Promise<Endpoints> {
  return component.endpoints({ ...runtime.peerAddress(component, host), secret: host.secret });
}

/** The endpoints, for its peers, of a service that already runs (kept by `up`). */
export async function runningPeerEndpoints(paths: StackPaths, component: Component, service: ServiceState): Promise<Endpoints> {
  return (await runningEndpoints(paths, component, service)).peerEndpoints;
}

/** A running service's endpoints as the host and as its peers reach it, from its recorded address and ports. */
export async function runningEndpoints(paths: StackPaths, component: Component, service: ServiceState): Promise<Omit<StartedService, 'service' | 'seconds'>> {
  const runtime = await runtimeOf(service);
  const view = hostView(paths, runtime, component.name, { host: service.host ?? '127.0.0.1', ports: service.ports });
  return { endpoints: await component.endpoints(view), peerEndpoints: await peerEndpointsOf(runtime, component, view) };
}

/**
 * Records the endpoints of running services whose endpoints the state lacks: an `up` killed during a
 * service's readiness wait records the service but not yet its endpoints, and its peers must not start
 * without them (they would fall back to the defaults, another stack's ports).
 */
export async function recordMissingEndpoints(paths: StackPaths, running: { component: Component; service: ServiceState }[], state: StackState): Promise<void> {
  const lacking = running.filter(({ component }) => component.endpointNames.some((e) => !state.endpoints[e]));
  if (lacking.length === 0) return;
  const found = await Promise.all(lacking.map(async ({ component, service }) => ({ service, ...(await runningEndpoints(paths, component, service)) })));
  await updateState(paths, (s) => {
    for (const f of found) {
      Object.assign(s.endpoints, f.endpoints);
      if (f.service.runtime === 'docker') s.networkEndpoints = { ...s.networkEndpoints, ...f.peerEndpoints };
    }
  });
  for (const f of found) Object.assign(state.endpoints, f.endpoints);
}

async function notReady(runtime: Runtime, component: Component, paths: StackPaths, error: unknown, waitedMs: number): Promise<EnvironmentError> {
  const probe = component.readiness.describe;
  const cause = error instanceof ReadinessTimeout ? error.lastError : error;
  const reason =
    error instanceof ReadinessTimeout
      ? `not ready after ${Math.round(error.waitedMs / 1000)}s: ${probe} did not pass${cause instanceof Error ? ` (${cause.message})` : ''}`
      : `${(error as Error).message} (probe: ${probe})`;
  const lines = (await runtime.logs(paths, component.name, { tail: 50, sinceStart: true })) ?? [];
  return new EnvironmentError('SERVICE_NOT_READY', `Service ${component.name} ${reason}.`, {
    details: [`last lines of its log (after ${Math.round(waitedMs / 1000)}s):`, ...lines.map((l) => `  ${l}`)],
    hint: `Its whole log: outboxctl logs ${component.name}`,
    cause: error,
  });
}

/** Records a service's runtime state (merged over what was recorded, so its ports stay). */
export async function recordService(paths: StackPaths, name: string, service: ServiceState): Promise<void> {
  await updateState(paths, (s) => {
    s.runtime ??= service.runtime;
    s.services[name] = { ...s.services[name], ...service };
  });
}

/** Drops what identifies a running instance and the service's endpoints; keeps its ports for next time. */
export async function forgetService(paths: StackPaths, name: string, endpointNames: EndpointName[] = []): Promise<void> {
  await updateState(paths, (s) => {
    const service = s.services[name];
    if (service) s.services[name] = withoutInstance(service);
    for (const e of endpointNames) {
      delete s.endpoints[e];
      delete s.networkEndpoints?.[e];
    }
  });
}

/** True while the recorded instance of a service runs (whatever runtime runs it). */
export async function isServiceAlive(service: ServiceState | undefined): Promise<boolean> {
  if (!service) return false;
  return (await runtimeOf(service)).isAlive(service);
}

/** Stops a recorded service through its runtime and forgets it. */
export async function stopService(paths: StackPaths, component: Component, service: ServiceState): Promise<StopResult> {
  const result = await (await runtimeOf(service)).stop(component, service);
  await forgetService(paths, component.name, component.endpointNames);
  return result;
}

/** What is kept of a service while it does not run: where it ran and on which ports. */
function withoutInstance(service: ServiceState): ServiceState {
  const kept: ServiceState = { runtime: service.runtime, ports: service.ports };
  // The image a recreated container runs again (an override given once stays).
  if (service.runtime === 'docker' && kept.runtime === 'docker' && service.image) kept.image = service.image;
  if (service.host !== undefined) kept.host = service.host;
  if (service.version !== undefined) kept.version = service.version;
  return kept;
}

/** True when the state records a running instance of the service (alive or not: see isServiceAlive). */
export async function hasInstance(service: ServiceState | undefined): Promise<boolean> {
  return (await instanceKey(service)) !== undefined;
}

/** What tells the recorded instance apart from any other (a later one, a reused pid), if one is recorded. */
export async function instanceKey(service: ServiceState | undefined): Promise<string | undefined> {
  if (!service) return undefined;
  return (await runtimeOf(service)).identify(service)?.key;
}

/**
 * Is a recorded service alive and passing its readiness probe now? A slow answer is not a
 * crash: the probe gets a few seconds of retries. Used by `up` and `status` alike.
 */
export async function probeService(component: Component, paths: StackPaths, state: StackState, windowMs = 5_000): Promise<boolean> {
  const service = state.services[component.name];
  if (!service || !(await isServiceAlive(service))) return false;
  const runtime = await runtimeOf(service);
  const view = hostView(paths, runtime, component.name, { host: service.host ?? '127.0.0.1', ports: service.ports });
  try {
    await waitFor(() => checkReadiness(component.readiness, view, 3_000), {
      timeoutMs: windowMs,
      intervalMs: 250,
      abortIf: async () => ((await runtime.isAlive(service)) ? undefined : new Error('gone')),
    });
    return true;
  } catch {
    return false;
  }
}
