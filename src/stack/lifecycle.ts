import { existsSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { redactUrl } from '../lib/config.js';
import { availableServices, component, serviceOrder } from './components/index.js';
import type { ServiceName } from './components/types.js';
import { type StackPaths, stackPaths } from './paths.js';
import { planDown } from './plan.js';
import { loadRuntime, RUNTIME_NAMES, runtimeOf, type StopResult } from './runtimes/index.js';
import { hasInstance, isServiceAlive, probeService, stopService } from './service.js';
import { emptyState, isUnreadableState, type RuntimeName, readState, type StackState, setAsideState, withStackLock, writeState } from './state.js';

export const STATUS_SCHEMA_VERSION = 1;

export type ServiceCondition = 'ready' | 'unhealthy' | 'stopped' | 'crashed';

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceCondition;
  /** Runtime-neutral id of the running instance (`pid 1234`). */
  id: string | null;
  pid: number | null;
  /** What runs it (docker: a container; outboxctl's own services are host processes in both runtimes). */
  runtime: RuntimeName | null;
  /** The container and its image (Docker runtime). */
  containerId: string | null;
  image: string | null;
  port: number | null;
  version: string;
  uptimeSeconds: number | null;
  rssBytes: number | null;
  probe: string;
}

export interface StackStatus {
  schemaVersion: number;
  stack: string;
  runtime: string | null;
  services: ServiceStatus[];
  /** Who indexes parcel.outbox: `embedded` (service sink) or `connect` (connector elasticsearch-sink); null before `up` chose. */
  sink: 'connect' | 'embedded' | null;
  /** Where the host reaches the stack's systems (the database URL's password masked), as flags would name them. */
  endpoints: Record<string, string>;
  /** Filled by the pipeline issues (lag, connector state, documents). */
  pipeline: Record<string, unknown>;
}

/** Probes one service of the state now. */
export async function serviceStatus(name: ServiceName, paths: StackPaths, state: StackState | undefined): Promise<ServiceStatus> {
  const c = component(name);
  const service = state?.services[name];
  const base = {
    name,
    id: null,
    pid: null,
    runtime: service?.runtime ?? null,
    containerId: null,
    image: service?.runtime === 'docker' ? (service.image ?? null) : null,
    port: service?.ports.main ?? null,
    version: service?.version ?? c.version,
    probe: c.readiness.describe,
    uptimeSeconds: null,
    rssBytes: null,
  };
  if (!service || !(await hasInstance(service))) return { ...base, state: 'stopped' };
  const runtime = await runtimeOf(service);
  const found = runtime.identify(service);
  const identity = { id: found?.id ?? null, pid: found?.pid ?? null, containerId: service.runtime === 'docker' ? (service.containerId ?? null) : null };
  // The probe checks that the instance runs before it asks (no second look at the process table when
  // it answers); only a failed probe asks whether the process is gone (crashed) or alive (unhealthy).
  const ok = await probeService(c, paths, state!);
  if (!ok && !(await runtime.isAlive(service))) return { ...base, ...identity, state: 'crashed' };
  const uptimeSeconds = service.startedAt ? Math.round((Date.now() - Date.parse(service.startedAt)) / 1000) : null;
  return { ...base, ...identity, state: ok ? 'ready' : 'unhealthy', uptimeSeconds, rssBytes: await runtime.usage(service) };
}

/** Every service the stack can run, as it is now; the document of `status --json`. */
export async function stackStatus(paths: StackPaths): Promise<StackStatus> {
  const state = await readState(paths);
  const names = availableServices();
  const services = await Promise.all(names.map((name) => serviceStatus(name, paths, state)));
  return {
    schemaVersion: STATUS_SCHEMA_VERSION,
    stack: paths.name,
    runtime: state?.runtime ?? null,
    services,
    sink: state?.sink ?? null,
    endpoints: Object.fromEntries(Object.entries(state?.endpoints ?? {}).map(([k, v]) => [k, redactUrl(v)])),
    pipeline: {},
  };
}

export interface StopReport {
  service: ServiceName;
  result: StopResult;
}

/** Stops services (reverse start order): gracefully, then forcibly; stale pids are cleaned. */
export async function stopServices(paths: StackPaths, names: ServiceName[], onStop?: (r: StopReport) => void): Promise<StopReport[]> {
  const state = await readState(paths);
  const reports: StopReport[] = [];
  for (const name of planDown(names, serviceOrder())) {
    const service = state?.services[name];
    if (!service || !(await hasInstance(service))) continue;
    const result = await stopService(paths, component(name), service);
    const report = { service: name, result } as StopReport;
    reports.push(report);
    onStop?.(report);
  }
  return reports;
}

/** The services the state records an instance of (running or stale), in start order. */
export async function withInstance(state: StackState | undefined): Promise<ServiceName[]> {
  const order = serviceOrder();
  const has = await Promise.all(order.map((s) => hasInstance(state?.services[s])));
  return order.filter((_, i) => has[i]);
}

/** The services whose recorded instance runs now, in start order. */
export async function runningServices(state: StackState | undefined, recorded?: ServiceName[]): Promise<ServiceName[]> {
  recorded ??= await withInstance(state);
  const alive = await Promise.all(recorded.map((s) => isServiceAlive(state?.services[s])));
  return recorded.filter((_, i) => alive[i]);
}

/** Drops the stack's logical replication slots, so no database keeps WAL for a stack that is gone. */
async function dropSlots(state: StackState | undefined): Promise<string[]> {
  const url = state?.endpoints.database;
  if (!url) return [];
  const { withPg } = await import('../clients/pg.js');
  return withPg(url, async (client) => {
    const { rows } = await client.query<{ slot_name: string }>(
      "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical' AND NOT active AND database = current_database()",
    );
    for (const r of rows) await client.query('SELECT pg_drop_replication_slot($1)', [r.slot_name]);
    return rows.map((r) => r.slot_name);
  }).catch(() => []);
}

export interface DownResult {
  stopped: StopReport[];
  droppedSlots: string[];
  removedData: boolean;
  /** A state file that could not be read, set aside by `down` (without --volumes) with what ran without it. */
  recovered?: RecoveredStack;
}

export interface RecoveredStack {
  /** Where the unreadable state file was moved. */
  keptAs: string;
  /** What ran for the stack (found by its runtimes without the state), stopped. */
  stopped: { id: string; result: StopResult }[];
  /** The runtime and the names of the secrets the new state file took over from the old one. */
  runtime: RuntimeName | null;
  secrets: string[];
}

/** Stops what each runtime finds running for the stack without its state; returns who it was, by runtime. */
async function stopFound(paths: StackPaths, volumes: boolean): Promise<{ runtime: RuntimeName; id: string; result: StopResult }[]> {
  const stopped: { runtime: RuntimeName; id: string; result: StopResult }[] = [];
  for (const name of RUNTIME_NAMES) {
    const runtime = await loadRuntime(name);
    for (const found of await runtime.find(paths)) {
      stopped.push({ runtime: name, id: runtime.identify(found)?.id ?? name, result: await runtime.stop(undefined, found) });
    }
    await runtime.teardown(paths, { volumes });
  }
  return stopped;
}

/**
 * `down` on an unreadable state file, keeping the data: the file is moved aside, what runs for the
 * stack is stopped, and a new state keeps the runtime and the secrets the data needs (the password
 * PostgreSQL's data was created with), so `up` starts the stack afresh on it.
 */
async function recoverUnreadable(paths: StackPaths): Promise<DownResult> {
  const stopped = await stopFound(paths, false);
  const { keptAs, salvaged } = await setAsideState(paths);
  const found = new Set(stopped.map((s) => s.runtime));
  // Without a runtime in the file, the one its data is for: containers found, else processes or a data directory.
  const runtime = salvaged.runtime ?? (found.has('docker') ? 'docker' : found.has('native') || existsSync(paths.dataDir) ? 'native' : undefined);
  await writeState(paths, { ...emptyState(paths.name), ...(runtime ? { runtime } : {}), secrets: salvaged.secrets });
  return {
    stopped: [],
    droppedSlots: [],
    removedData: false,
    recovered: { keptAs, stopped: stopped.map(({ id, result }) => ({ id, result })), runtime: runtime ?? null, secrets: Object.keys(salvaged.secrets) },
  };
}

/** Everything in the stack's directory but the lock held now (data, logs, config, tools, state, set-aside files). */
async function emptyStackDir(paths: StackPaths): Promise<void> {
  const lock = `${path.basename(paths.stateFile)}.lock`;
  const entries = await readdir(paths.dir).catch(() => []);
  for (const entry of entries) if (entry !== lock) await rm(path.join(paths.dir, entry), { recursive: true, force: true });
}

/** `down`: everything in reverse order; with volumes, the slots first, then the data, then the stack's directory. */
export async function down(paths: StackPaths, options: { volumes: boolean; onStop?: (r: StopReport) => void }): Promise<DownResult> {
  const result = await withStackLock(paths, {}, async () => {
    let state: StackState | undefined;
    try {
      state = await readState(paths);
    } catch (error) {
      if (!isUnreadableState(error)) throw error;
      if (!options.volumes) return recoverUnreadable(paths);
      // No usable state and its data goes: what runs for the stack is found without it.
      await stopFound(paths, true);
      await emptyStackDir(paths);
      return { stopped: [], droppedSlots: [], removedData: true };
    }
    const running = await withInstance(state);
    let droppedSlots: string[] = [];
    let stopped: StopReport[];
    if (options.volumes && running.includes('postgres') && (await isServiceAlive(state?.services.postgres))) {
      // Everything that reads the slots stops first; PostgreSQL stays up until they are dropped.
      stopped = await stopServices(
        paths,
        running.filter((s) => s !== 'postgres'),
        options.onStop,
      );
      droppedSlots = await dropSlots(state);
      stopped.push(...(await stopServices(paths, ['postgres'], options.onStop)));
    } else {
      stopped = await stopServices(paths, running, options.onStop);
    }
    // What the stack's services shared (a container network) and, with --volumes, their data.
    const used = new Set<RuntimeName>([...(state?.runtime ? [state.runtime] : []), ...Object.values(state?.services ?? {}).map((s) => s.runtime)]);
    for (const name of used) await (await loadRuntime(name)).teardown(paths, { volumes: options.volumes });
    if (options.volumes) await emptyStackDir(paths);
    return { stopped, droppedSlots, removedData: options.volumes };
  });
  // Only an empty directory goes (the lock released, nothing left): one that another command locked since stays.
  await rmdir(paths.dir).catch(() => undefined);
  return result;
}

export interface StackSummary {
  name: string;
  /** `corrupt` when the state file cannot be read (`down` sets it aside, `down --volumes` deletes the stack). */
  runtime: string | null;
  running: ServiceName[];
  stale: ServiceName[];
  /** Why what runs is unknown (its Docker engine does not answer). */
  problem?: string;
}

/** Every stack under the home that has a state file, with what runs and what is stale (pids that are gone). */
export async function listStacks(home: string): Promise<StackSummary[]> {
  let names: string[];
  try {
    names = (await readdir(path.join(home, 'stacks'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
  const summaries: StackSummary[] = [];
  for (const name of names) {
    const state = await readState(stackPaths(home, name)).catch(() => null);
    if (state === null) {
      summaries.push({ name, runtime: 'corrupt', running: [], stale: [] });
      continue;
    }
    // A directory without a state (an `up` still resolving artifacts, a leftover) is no stack yet.
    if (state === undefined) continue;
    const recorded = await withInstance(state);
    try {
      const running = await runningServices(state, recorded);
      summaries.push({ name, runtime: state?.runtime ?? null, running, stale: recorded.filter((s) => !running.includes(s)) });
    } catch (error) {
      // One stack whose engine does not answer does not hide the others.
      summaries.push({ name, runtime: state?.runtime ?? null, running: [], stale: [], problem: (error as Error).message });
    }
  }
  return summaries;
}
