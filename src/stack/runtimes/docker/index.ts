import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { EnvironmentError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/logger.js';
import type { Component } from '../../components/types.js';
import type { DockerServiceState, ServiceState } from '../../state.js';
import type { Runtime } from '../runtime.js';
import { connectEngine, containerName, demultiplex, labelFilter, networkName, SERVICE_LABEL, STACK_LABEL, volumeName } from './engine.js';

const log = createLogger('docker');

function own(service: ServiceState): DockerServiceState {
  if (service.runtime !== 'docker') throw new Error(`the Docker runtime was given a ${service.runtime} service`);
  return service;
}

function section(component: Component) {
  if (!component.container) throw new Error(`${component.name} has no container section`);
  return component.container;
}

/** The image to run: `OUTBOXCTL_IMAGE_<SERVICE>` over the component's pinned default. */
export function imageFor(component: Component, env: NodeJS.ProcessEnv): string {
  return env[`OUTBOXCTL_IMAGE_${component.name.toUpperCase()}`] || section(component).image;
}

const containerPort = (component: Component, name: string) => {
  const spec = component.ports.find((p) => p.name === name)!;
  return spec.container ?? spec.preferred;
};

/** The stack's network (created once, labelled); its name resolves each container by `<stack>-<service>`. */
async function ensureNetwork(docker: Docker, stack: string): Promise<string> {
  const name = networkName(stack);
  const found = await docker.listNetworks({ filters: labelFilter(stack) });
  if (!found.some((n) => n.Name === name)) await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { [STACK_LABEL]: stack } });
  return name;
}

async function ensureVolume(docker: Docker, stack: string, service: string): Promise<string> {
  const name = volumeName(stack, service);
  const { Volumes } = await docker.listVolumes({ filters: labelFilter(stack, service) });
  if (!(Volumes ?? []).some((v) => v.Name === name)) await docker.createVolume({ Name: name, Labels: { [STACK_LABEL]: stack, [SERVICE_LABEL]: service } });
  return name;
}

async function removeContainer(docker: Docker, id: string): Promise<void> {
  await docker
    .getContainer(id)
    .remove({ force: true, v: false })
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
}

async function logText(docker: Docker, id: string, tail?: number): Promise<string | undefined> {
  try {
    const buffer = (await docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, follow: false, ...(tail === undefined ? {} : { tail }) })) as unknown as Buffer;
    return demultiplex(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** The container of a service of the stack, found by its labels. */
async function findContainer(docker: Docker, stack: string, service: string): Promise<string | undefined> {
  const [found] = await docker.listContainers({ all: true, filters: labelFilter(stack, service) });
  return found?.Id;
}

const lines = (text: string) => {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
};

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

  // Images are pulled (or built) when the container is created.
  provision: async () => ({}),

  async create(component, ctx) {
    const docker = await connectEngine(ctx.env);
    const container = section(component);
    const stack = ctx.paths.name;
    const network = await ensureNetwork(docker, stack);
    const image = imageFor(component, ctx.env);
    const labels = { [STACK_LABEL]: stack, [SERVICE_LABEL]: component.name };
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const spec of component.ports) {
      const key = `${containerPort(component, spec.name)}/tcp`;
      exposed[key] = {};
      bindings[key] = [{ HostIp: ctx.host, HostPort: String(ctx.ports[spec.name]) }];
    }
    const env = { ...component.env?.(ctx.endpoints), ...container.env?.(ctx) };
    const mounts = container.volume ? [{ Type: 'volume' as const, Source: await ensureVolume(docker, stack, component.name), Target: container.volume }] : [];
    const name = containerName(stack, component.name);
    const stale = await findContainer(docker, stack, component.name);
    if (stale) await removeContainer(docker, stale);
    const created = await docker.createContainer({
      name,
      Image: image,
      Cmd: container.command?.(ctx),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: labels,
      ExposedPorts: exposed,
      // The Engine API's default is 0: a kill, not a shutdown.
      StopTimeout: Math.ceil(container.stopGraceMs / 1000),
      HostConfig: { PortBindings: bindings, Mounts: mounts, NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name, component.name] } } },
    });
    try {
      await created.start();
    } catch (error) {
      // Create succeeds and start fails on a host port taken meanwhile: nothing of this start stays.
      await removeContainer(docker, created.id);
      throw error;
    }
    log('%s started as container %s (%s)', component.name, created.id.slice(0, 12), image);
    return { runtime: 'docker', containerId: created.id, image, host: ctx.host, ports: ctx.ports };
  },

  // The engine binds the published ports itself: a port taken by another process fails the start.
  verify: async () => undefined,

  // On the stack's network each container answers to its service name (an alias) on its own ports.
  peerAddress: (component, host) => ({
    host: component.name,
    ports: Object.fromEntries(Object.keys(host.ports).map((name) => [name, containerPort(component, name)])),
  }),

  async stop(component, recorded) {
    const service = own(recorded);
    if (!service.containerId) return 'not-running';
    const docker = await connectEngine(process.env);
    const info = await docker
      .getContainer(service.containerId)
      .inspect()
      .catch(() => undefined);
    if (!info) return 'stale';
    const graceS = Math.ceil((component?.container?.stopGraceMs ?? 10_000) / 1000);
    let result: 'stopped' | 'killed' | 'stale' = 'stale';
    if (info.State.Running) {
      await docker
        .getContainer(service.containerId)
        .stop({ t: graceS })
        .catch(() => undefined);
      const after = await docker.getContainer(service.containerId).inspect();
      result = after.State.ExitCode === 137 ? 'killed' : 'stopped';
    }
    await removeContainer(docker, service.containerId);
    return result;
  },

  async isAlive(recorded) {
    if (!recorded) return false;
    const service = own(recorded);
    if (!service.containerId) return false;
    const docker = await connectEngine(process.env);
    const info = await docker
      .getContainer(service.containerId)
      .inspect()
      .catch(() => undefined);
    return Boolean(info?.State.Running);
  },

  identify: (recorded) => {
    const { containerId } = own(recorded);
    return containerId ? { id: `container ${containerId.slice(0, 12)}`, key: containerId, pid: null } : undefined;
  },

  async usage(recorded) {
    const { containerId } = own(recorded);
    if (!containerId) return null;
    const docker = await connectEngine(process.env);
    const stats = (await docker
      .getContainer(containerId)
      .stats({ stream: false })
      .catch(() => undefined)) as { memory_stats?: { usage?: number } } | undefined;
    return stats?.memory_stats?.usage ?? null;
  },

  async logs(paths, name, options = {}) {
    const docker = await connectEngine(process.env);
    const id = await findContainer(docker, paths.name, name);
    if (!id) return undefined;
    // A container holds only its own start's output: `sinceStart` needs nothing more.
    const text = await logText(docker, id, options.tail);
    if (text === undefined) return undefined;
    return options.tail === 0 ? [] : lines(text);
  },

  async followLogs(paths, name, options) {
    const docker = await connectEngine(process.env);
    const id = await findContainer(docker, paths.name, name);
    if (!id) return;
    const stream = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: true, tail: options.tail ?? 0 })) as NodeJS.ReadableStream;
    const out = new PassThrough();
    docker.modem.demuxStream(stream, out, out);
    let partial = '';
    out.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const line of parts) options.onLine(line);
    });
    await new Promise<void>((resolve) => {
      stream.on('end', () => resolve());
      stream.on('error', () => resolve());
      options.signal?.addEventListener('abort', () => {
        (stream as unknown as { destroy(): void }).destroy();
        resolve();
      });
    });
  },

  async find(paths) {
    const docker = await connectEngine(process.env).catch(() => undefined);
    if (!docker) return [];
    const found = await docker.listContainers({ all: true, filters: labelFilter(paths.name) });
    return found.map((c): ServiceState => ({ runtime: 'docker', containerId: c.Id, image: c.Image, ports: {} }));
  },
};
