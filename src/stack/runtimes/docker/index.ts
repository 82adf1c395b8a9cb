import { appendFile, mkdir } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { EnvironmentError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/logger.js';
import { containerPort, peerPort, portsBy } from '../../components/container-ports.js';
import { writeSecretFile } from '../../components/secrets.js';
import type { Component, ContainerContext, ServiceContext } from '../../components/types.js';
import { type StackPaths, stackPaths } from '../../paths.js';
import { type DockerServiceState, readState, recordedEngine, type ServiceState } from '../../state.js';
import { readLog, serviceLogFile, startMarker } from '../native/logs.js';
import type { LogFollowOptions, Runtime } from '../runtime.js';
import {
  connectEngine,
  containerName,
  demultiplex,
  engineOf,
  HOME_LABEL,
  isNotFound,
  labelFilter,
  networkName,
  SERVICE_LABEL,
  STACK_LABEL,
  unlessGone,
  volumeName,
} from './engine.js';
import { dockerExec } from './exec.js';
import { ensureImage, imageSource } from './images.js';

const log = createLogger('docker');

function own(service: ServiceState): DockerServiceState {
  if (service.runtime !== 'docker') throw new Error(`the Docker runtime was given a ${service.runtime} service`);
  return service;
}

function section(component: Component) {
  if (!component.container) throw new Error(`${component.name} has no container section`);
  return component.container;
}

/** What a container section is described in, from a start's context. */
export function containerContext(component: Component, ctx: ServiceContext): ContainerContext {
  return {
    stack: ctx.paths.name,
    ports: portsBy(component, containerPort),
    hostPorts: ctx.ports,
    clientHost: ctx.clientHost,
    endpoints: ctx.endpoints,
    secret: ctx.secret,
    env: ctx.env,
  };
}

const labelsOf = (paths: StackPaths, service?: string) => ({
  [STACK_LABEL]: paths.name,
  [HOME_LABEL]: paths.home,
  ...(service ? { [SERVICE_LABEL]: service } : {}),
});

/** Things of this stack in this home (not a stack of the same name under another OUTBOXCTL_HOME, nor a Compose project's). */
const ours = (paths: StackPaths, labels: Record<string, string> | undefined) => labels?.[HOME_LABEL] === paths.home;

/** The stack's network, created when missing; returns its name and whether this call created it. */
async function ensureNetwork(docker: Docker, paths: StackPaths): Promise<{ name: string; created: boolean }> {
  const name = networkName(paths.name);
  const found = (await docker.listNetworks({ filters: JSON.stringify({ name: [name] }) })).find((n) => n.Name === name);
  if (found && !ours(paths, found.Labels)) throw nameTaken('network', name);
  if (found) return { name, created: false };
  await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: labelsOf(paths) });
  return { name, created: true };
}

/** An object of the stack's name that is not the stack's: refused, never shared. */
function nameTaken(kind: 'network' | 'volume' | 'container', name: string): EnvironmentError {
  return new EnvironmentError(
    'DOCKER_NAME_TAKEN',
    `A ${kind} named ${name} exists that is not part of this stack (made by hand or under another OUTBOXCTL_HOME).`,
    {
      hint: `Remove it (\`docker ${kind} rm ${name}\`) if it is not needed, or use another stack name (--stack).`,
    },
  );
}

/** The service's named volume, created when missing; returns its name and whether this call created it. */
async function ensureVolume(docker: Docker, paths: StackPaths, service: string): Promise<{ name: string; created: boolean }> {
  const name = volumeName(paths.name, service);
  const found = await unlessGone(docker.getVolume(name).inspect());
  // Its data may be another stack's (the same stack name under another OUTBOXCTL_HOME): never mounted here.
  if (found && !ours(paths, found.Labels ?? undefined)) throw nameTaken('volume', name);
  if (found) return { name, created: false };
  await docker.createVolume({ Name: name, Labels: labelsOf(paths, service) });
  return { name, created: true };
}

/** Removes a container; one that is already gone is fine, any other failure is not. */
async function removeContainer(docker: Docker, id: string): Promise<void> {
  // v: an anonymous volume an image declares (VOLUME) goes with it; named volumes stay.
  await unlessGone(docker.getContainer(id).remove({ force: true, v: true }));
}

const inspect = (docker: Docker, id: string) => unlessGone(docker.getContainer(id).inspect());

async function logText(docker: Docker, id: string, tail?: number): Promise<string | undefined> {
  const buffer = (await unlessGone(
    docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, ...(tail === undefined ? {} : { tail }) }),
  )) as unknown as Buffer | undefined;
  if (buffer === undefined) return undefined;
  return demultiplex(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
}

/** The container of a service of the stack, found by its labels. */
async function findContainer(docker: Docker, paths: StackPaths, service: string): Promise<string | undefined> {
  const found = await docker.listContainers({ all: true, filters: labelFilter(paths.name, service) });
  return found.find((c) => c.Labels[SERVICE_LABEL] === service && ours(paths, c.Labels))?.Id;
}

const lines = (text: string) => {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
};

/** The engine a stack's containers were created on: the recorded socket, else DOCKER_HOST. */
async function stackEngine(paths: StackPaths): Promise<Docker> {
  return engineOf({ engine: recordedEngine(await readState(paths).catch(() => undefined)) });
}

const recordedImage = (service: ServiceState | undefined) => (service?.runtime === 'docker' ? service.image : undefined);

/** Keeps a container's output in `<stack>/logs/<service>.log` before the container goes (`logs` reads it afterwards). */
async function saveLog(docker: Docker, paths: StackPaths, service: string, id: string): Promise<void> {
  const text = await logText(docker, id).catch(() => undefined);
  if (!text) return;
  await mkdir(paths.logDir, { recursive: true });
  await appendFile(
    serviceLogFile(paths, service as Component['name']),
    `${startMarker(service as Component['name'])}\n${text}${text.endsWith('\n') ? '' : '\n'}`,
  );
}

/** Anything else the engine refuses (out of disk, a bad reference): its own words in one sentence. */
function engineFailure(verb: 'create' | 'start', component: Component, error: unknown): Error {
  if (error instanceof EnvironmentError) return error;
  const message = ((error as { json?: { message?: string } }).json?.message ?? (error as Error).message).trim().replace(/\.$/, '');
  return new EnvironmentError('DOCKER_REFUSED', `The Docker engine could not ${verb} the ${component.name} container: ${message}.`, {
    hint: 'Fix what the engine says (`docker system df` shows disk use), then run `outboxctl up` again.',
    cause: error,
  });
}

/**
 * Networks and volumes this process created for services that then started: removed again by
 * `finishRun(true)` when a later step of the same run fails, so a failed `up` leaves nothing.
 */
const createdByThisProcess: (() => Promise<unknown>)[] = [];

/** Calls `onLine` for each line of one container's log (its last `tail` first) until the stream ends or the signal aborts. */
async function followContainer(docker: Docker, id: string, tail: number | 'all', options: LogFollowOptions): Promise<void> {
  const stream = (await unlessGone(docker.getContainer(id).logs({ stdout: true, stderr: true, follow: true, tail: tail as number }))) as
    | (NodeJS.ReadableStream & { destroy(): void })
    | undefined;
  if (!stream) return;
  const out = new PassThrough();
  docker.modem.demuxStream(stream, out, out);
  // Multi-byte characters may be split across frames.
  const decoder = new StringDecoder('utf8');
  let partial = '';
  out.on('data', (chunk: Buffer) => {
    const parts = (partial + decoder.write(chunk)).split('\n');
    partial = parts.pop()!;
    for (const line of parts) options.onLine(line);
  });
  await new Promise<void>((resolve) => {
    const finish = () => {
      options.signal?.removeEventListener('abort', onAbort);
      if (partial) options.onLine(partial);
      partial = '';
      resolve();
    };
    const onAbort = () => {
      stream.destroy();
      finish();
    };
    if (options.signal?.aborted) return onAbort();
    stream.on('end', finish);
    stream.on('error', finish);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A start that fails on a host port: the engine's words, and the port named. */
function startFailure(component: Component, error: unknown): Error {
  const message = ((error as { json?: { message?: string } }).json?.message ?? (error as Error).message).trim();
  const port = message.match(/(?:address already in use|port is already allocated)/) ? message.match(/:(\d+)(?::|\s|$|\))/)?.[1] : undefined;
  if (!port) return engineFailure('start', component, error);
  return new EnvironmentError(
    'PORT_IN_USE',
    `Port ${port} was taken by another process when the ${component.name} container started; nothing of this start was kept.`,
    {
      hint: 'Run `outboxctl up` again (it picks a free port), or free the port.',
      cause: error,
    },
  );
}

/** The start in progress, if any (see `create`). */
let creating: Promise<unknown> = Promise.resolve();

async function createContainerFor(component: Component, ctx: ServiceContext): Promise<ServiceState> {
  const docker = await connectEngine(ctx.env);
  const container = section(component);
  const paths = ctx.paths;
  const source = await imageSource(component, ctx.env, recordedImage((await ctx.state())?.services[component.name]));
  const image = source.ref;
  // Usually present already (provision); a start outside `up` (db commands) may need it too.
  await ensureImage(docker, component.name, source, ctx.onProgress);
  const cctx = containerContext(component, ctx);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of component.ports) {
    const key = `${containerPort(component, spec.name)}/tcp`;
    exposed[key] = {};
    bindings[key] = [{ HostIp: ctx.host, HostPort: String(ctx.ports[spec.name]) }];
  }
  const env = { ...component.env?.(ctx.endpoints), ...(await container.env?.(cctx)) };
  const name = containerName(paths.name, component.name);
  const stale = await findContainer(docker, paths, component.name);
  if (stale) {
    // A container that died: what it wrote explains why, and `logs` reads it from the stack's log file.
    await saveLog(docker, paths, component.name, stale);
    await removeContainer(docker, stale);
  }
  // What this start creates goes again when it fails: no network, volume or container of a failed run stays.
  const undo: (() => Promise<unknown>)[] = [];
  const rollback = async () => {
    for (const step of undo.reverse()) await step().catch((error: unknown) => log('rollback: %s', (error as Error).message));
  };
  try {
    const network = await ensureNetwork(docker, paths);
    if (network.created) undo.push(() => docker.getNetwork(network.name).remove());
    const mounts: { Type: 'volume' | 'bind'; Source: string; Target: string; ReadOnly?: boolean }[] = [];
    if (container.volume) {
      const volume = await ensureVolume(docker, paths, component.name);
      if (volume.created) undo.push(() => docker.getVolume(volume.name).remove());
      mounts.push({ Type: 'volume', Source: volume.name, Target: container.volume });
    }
    // Secrets as files, never in the environment (which `inspect` shows): read-only, from the stack's 0700 directory.
    for (const file of (await container.secretFiles?.(cctx)) ?? []) {
      const source = await writeSecretFile(paths, file.name, file.content, 0o644);
      mounts.push({ Type: 'bind', Source: source, Target: file.target, ReadOnly: true });
    }
    const created = await docker
      .createContainer({
        name,
        Image: image,
        Cmd: container.command?.(cctx),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: labelsOf(paths, component.name),
        ExposedPorts: exposed,
        // The Engine API's default is 0: a kill, not a shutdown.
        StopTimeout: Math.ceil(container.stopGraceMs / 1000),
        ...(container.stopSignal ? { StopSignal: container.stopSignal } : {}),
        HostConfig: { PortBindings: bindings, Mounts: mounts, NetworkMode: network.name },
        NetworkingConfig: { EndpointsConfig: { [network.name]: { Aliases: [component.name] } } },
      })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode === 409) throw nameTaken('container', name);
        throw engineFailure('create', component, error);
      });
    undo.push(() => removeContainer(docker, created.id));
    await created.start().catch((error: unknown) => {
      // Create succeeds and start fails on a host port taken meanwhile.
      throw startFailure(component, error);
    });
    // The network and volume stay with the service; a later failure of the same run removes them (finishRun).
    createdByThisProcess.push(...undo.slice(0, -1));
    log('%s started as container %s (%s)', component.name, created.id.slice(0, 12), image);
    const socket = (docker.modem as { socketPath?: string }).socketPath;
    return { runtime: 'docker', containerId: created.id, image, ...(socket ? { engine: socket } : {}), host: ctx.host, ports: ctx.ports };
  } catch (error) {
    await rollback();
    throw error;
  }
}

/**
 * Services as containers through the Docker Engine API (Docker, or Podman serving it): one labelled
 * network per stack, a labelled named volume per stateful service, containers `<stack>-<service>`
 * created with a stop timeout and their ports published on the host's address.
 */
export const dockerRuntime: Runtime = {
  name: 'docker',

  async preflight(components, env) {
    await connectEngine(env);
    const without = components.filter((c) => !c.container).map((c) => c.name);
    if (without.length) throw new EnvironmentError('NO_CONTAINER', `${without.join(', ')} cannot run as a container.`);
  },

  // Every image is made present before any container of the run is created: a missing one leaves nothing behind.
  async provision(components, { env, paths, onProgress }) {
    const docker = await connectEngine(env);
    const state = await readState(paths);
    for (const c of components) {
      const source = await imageSource(c, env, recordedImage(state?.services[c.name]));
      await ensureImage(docker, c.name, source, (m) => onProgress(`${c.name}: ${m}`));
    }
    return {};
  },

  create(component, ctx) {
    // One at a time: `up` starts services that do not depend on each other at once, and two starts
    // must not both create the stack's network.
    const next = creating.then(() => createContainerFor(component, ctx));
    creating = next.catch(() => undefined);
    return next;
  },

  // The engine binds the published ports itself: a port taken by another process fails the start.
  verify: async () => undefined,

  // On the stack's network each container answers to its service name (an alias) on its own ports.
  peerAddress: (component, host) => ({
    host: component.name,
    ports: Object.fromEntries(Object.keys(host.ports).map((name) => [name, peerPort(component, name)])),
  }),

  async stop(component, recorded) {
    const service = own(recorded);
    if (!service.containerId) return 'not-running';
    const docker = await engineOf(service);
    const info = await inspect(docker, service.containerId);
    if (!info) return 'stale';
    const graceS = Math.ceil((component?.container?.stopGraceMs ?? 10_000) / 1000);
    let result: 'stopped' | 'killed' | 'stale' = 'stale';
    if (info.State.Running) {
      await docker
        .getContainer(service.containerId)
        .stop({ t: graceS })
        .catch((error: { statusCode?: number }) => {
          // 304: it stopped by itself meanwhile.
          if (error.statusCode !== 304 && !isNotFound(error)) throw error;
        });
      const after = await inspect(docker, service.containerId);
      result = after?.State.ExitCode === 137 ? 'killed' : 'stopped';
    }
    const service_ = info.Config.Labels?.[SERVICE_LABEL];
    const stack = info.Config.Labels?.[STACK_LABEL];
    const home = info.Config.Labels?.[HOME_LABEL];
    if (service_ && stack && home) await saveLog(docker, stackPaths(home, stack), service_, service.containerId);
    await removeContainer(docker, service.containerId);
    return result;
  },

  async isAlive(recorded) {
    if (!recorded) return false;
    const service = own(recorded);
    if (!service.containerId) return false;
    const info = await inspect(await engineOf(service), service.containerId);
    return Boolean(info?.State.Running);
  },

  identify: (recorded) => {
    const { containerId } = own(recorded);
    return containerId ? { id: `container ${containerId.slice(0, 12)}`, key: containerId, pid: null } : undefined;
  },

  async usage(recorded) {
    const service = own(recorded);
    if (!service.containerId) return null;
    const docker = await engineOf(service);
    const stats = (await docker
      .getContainer(service.containerId)
      .stats({ stream: false, 'one-shot': true } as { stream: false })
      .catch(() => undefined)) as { memory_stats?: { usage?: number } } | undefined;
    return stats?.memory_stats?.usage ?? null;
  },

  async logs(paths, name, options = {}) {
    const docker = await stackEngine(paths);
    const id = await findContainer(docker, paths, name);
    // Once removed, what it wrote was kept in the stack's log directory.
    if (!id) return readLog(paths, name, options);
    // A container holds only its own start's output: `sinceStart` needs nothing more.
    const text = await logText(docker, id, options.tail);
    if (text === undefined) return readLog(paths, name, options);
    return options.tail === 0 ? [] : lines(text);
  },

  async followLogs(paths, name, options) {
    const docker = await stackEngine(paths);
    let tail: number | 'all' = options.tail ?? 0;
    let followed: string | undefined;
    // Follows the service's container; when it is replaced (`up` recreated it), follows the new one from its start.
    while (!options.signal?.aborted) {
      const id = await findContainer(docker, paths, name);
      if (!id || id === followed) {
        await sleep(1_000, undefined, { signal: options.signal }).catch(() => undefined);
        continue;
      }
      await followContainer(docker, id, tail, options);
      followed = id;
      tail = 'all';
    }
  },

  exec: (component, service, request) => dockerExec(component, service, request),

  async finishRun(failed) {
    const created = createdByThisProcess.splice(0).reverse();
    if (failed) for (const step of created) await step().catch((error: unknown) => log('discard: %s', (error as Error).message));
  },

  async find(paths) {
    const docker = await stackEngine(paths).catch(() => undefined);
    if (!docker) return [];
    const found = await docker.listContainers({ all: true, filters: labelFilter(paths.name) });
    const socket = (docker.modem as { socketPath?: string }).socketPath;
    return found
      .filter((c) => ours(paths, c.Labels))
      .map((c): ServiceState => ({ runtime: 'docker', containerId: c.Id, image: c.Image, ports: {}, ...(socket ? { engine: socket } : {}) }));
  },

  async teardown(paths, options) {
    const docker = await stackEngine(paths).catch(() => undefined);
    if (!docker) return;
    // A container the state never recorded (an `up` killed between create and record) would hold the network.
    for (const c of await docker.listContainers({ all: true, filters: labelFilter(paths.name) })) {
      if (ours(paths, c.Labels)) await removeContainer(docker, c.Id);
    }
    for (const n of await docker.listNetworks({ filters: labelFilter(paths.name) })) {
      if (!ours(paths, n.Labels)) continue;
      await unlessGone(docker.getNetwork(n.Id).remove());
    }
    if (!options.volumes) return;
    const { Volumes } = await docker.listVolumes({ filters: labelFilter(paths.name) });
    for (const v of Volumes ?? []) {
      if (!ours(paths, v.Labels)) continue;
      await unlessGone(docker.getVolume(v.Name).remove());
    }
  },
};
