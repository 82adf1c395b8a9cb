import { rm } from 'node:fs/promises';
import { withPg } from '../clients/pg.js';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { availableServices, component } from './components/index.js';
import { SERVICE_ORDER, type ServiceName } from './components/types.js';
import type { StackPaths } from './paths.js';
import { planDown } from './plan.js';
import { groupRssBytes, processesMentioning, stopGroup } from './process.js';
import { forgetService, isServiceAlive, probeService, stopNative } from './runtimes/native.js';
import { readState, withStackLock, type StackState } from './state.js';
import { stackPaths } from './paths.js';

export const STATUS_SCHEMA_VERSION = 1;

export type ServiceCondition = 'ready' | 'unhealthy' | 'stopped' | 'crashed';

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceCondition;
  pid: number | null;
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
  /** Filled by the pipeline issues (lag, connector state, documents). */
  pipeline: Record<string, unknown>;
}

/** Probes one service of the state now. */
export async function serviceStatus(name: ServiceName, paths: StackPaths, env: NodeJS.ProcessEnv, state: StackState | undefined): Promise<ServiceStatus> {
  const c = component(name);
  const service = state?.services[name];
  const base = { name, pid: service?.pid ?? null, port: service?.port ?? null, version: service?.version ?? c.version, probe: c.probe, uptimeSeconds: null, rssBytes: null };
  if (!service?.pid) return { ...base, state: 'stopped' };
  if (!isServiceAlive(service)) return { ...base, state: 'crashed' };
  const ok = await probeService(c, paths, env, state!);
  const uptimeSeconds = service.startedAt ? Math.round((Date.now() - Date.parse(service.startedAt)) / 1000) : null;
  return { ...base, state: ok ? 'ready' : 'unhealthy', uptimeSeconds, rssBytes: await groupRssBytes(service.pid) };
}

/** Every service the stack can run, as it is now; the document of `status --json`. */
export async function stackStatus(paths: StackPaths, env: NodeJS.ProcessEnv): Promise<StackStatus> {
  const state = await readState(paths);
  const names = SERVICE_ORDER.filter((s) => availableServices().includes(s));
  const services = await Promise.all(names.map((name) => serviceStatus(name, paths, env, state)));
  return { schemaVersion: STATUS_SCHEMA_VERSION, stack: paths.name, runtime: state?.runtime ?? null, services, sink: state?.sink ?? null, pipeline: {} };
}

export interface StopReport {
  service: ServiceName;
  result: 'stopped' | 'killed' | 'not-running' | 'stale';
}

/** Stops services (reverse start order): gracefully, then forcibly; stale pids are cleaned. */
export async function stopServices(paths: StackPaths, names: ServiceName[], onStop?: (r: StopReport) => void): Promise<StopReport[]> {
  const state = await readState(paths);
  const reports: StopReport[] = [];
  for (const name of planDown(names, SERVICE_ORDER)) {
    const service = state?.services[name];
    if (!service?.pid) continue;
    const c = component(name);
    const result = await stopNative(c, service);
    await forgetService(paths, name, c.endpointNames);
    const report = { service: name, result } as StopReport;
    reports.push(report);
    onStop?.(report);
  }
  return reports;
}

/** Drops the stack's logical replication slots, so no database keeps WAL for a stack that is gone. */
async function dropSlots(state: StackState | undefined): Promise<string[]> {
  const url = state?.endpoints.database;
  if (!url) return [];
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
}

/** `down`: everything in reverse order; with volumes, the slots first, then the data. */
export async function down(paths: StackPaths, options: { volumes: boolean; onStop?: (r: StopReport) => void }): Promise<DownResult> {
  return withStackLock(paths, {}, async () => {
    let state: StackState | undefined;
    try {
      state = await readState(paths);
    } catch (error) {
      if (!options.volumes || (error as { code?: string }).code !== 'STATE_CORRUPT') throw error;
      // No usable state: find the stack's processes by their command lines, then delete it all.
      for (const pid of processesMentioning(paths.dir)) await stopGroup(pid, { single: true, graceMs: 10_000 });
      await rm(paths.dir, { recursive: true, force: true });
      return { stopped: [], droppedSlots: [], removedData: true };
    }
    const running = SERVICE_ORDER.filter((s) => state?.services[s]?.pid);
    let droppedSlots: string[] = [];
    let stopped: StopReport[];
    if (options.volumes && running.includes('postgres') && isServiceAlive(state?.services.postgres)) {
      // Everything that reads the slots stops first; PostgreSQL stays up until they are dropped.
      stopped = await stopServices(paths, running.filter((s) => s !== 'postgres'), options.onStop);
      droppedSlots = await dropSlots(state);
      stopped.push(...(await stopServices(paths, ['postgres'], options.onStop)));
    } else {
      stopped = await stopServices(paths, running, options.onStop);
    }
    if (options.volumes) {
      for (const dir of [paths.dataDir, paths.logDir, path.join(paths.dir, 'config')]) await rm(dir, { recursive: true, force: true });
      await rm(paths.stateFile, { force: true });
    }
    return { stopped, droppedSlots, removedData: options.volumes };
  });
}

export interface StackSummary {
  name: string;
  /** `corrupt` when the state file cannot be read (`down --volumes` cleans it). */
  runtime: string | null;
  running: ServiceName[];
  stale: ServiceName[];
}

/** Every stack under the home, with what runs and what is stale (pids that are gone). */
export async function listStacks(home: string): Promise<StackSummary[]> {
  let names: string[];
  try {
    names = (await readdir(path.join(home, 'stacks'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
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
    const withPid = SERVICE_ORDER.filter((s) => state?.services[s]?.pid);
    summaries.push({
      name,
      runtime: state?.runtime ?? null,
      running: withPid.filter((s) => isServiceAlive(state!.services[s])),
      stale: withPid.filter((s) => !isServiceAlive(state!.services[s])),
    });
  }
  return summaries;
}
