import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Component } from '../../src/stack/components/types.js';
import { stackPaths } from '../../src/stack/paths.js';
import { freePort } from '../../src/stack/ports.js';
import { connectEngine, labelFilter } from '../../src/stack/runtimes/docker/engine.js';
import { loadRuntime } from '../../src/stack/runtimes/index.js';
import { isServiceAlive, serviceContext, startService, stopService } from '../../src/stack/service.js';
import { readState } from '../../src/stack/state.js';
import { fakeComponent } from '../helpers/fake-component.js';

/**
 * The Docker runtime on a real engine (Podman serving the Docker Engine API, started by
 * .ci/container-engine.sh, which prints the socket for OUTBOXCTL_TEST_DOCKER_HOST) with the local
 * Debian base image it builds: the tests' fake component, through its container section.
 */
const host = process.env.OUTBOXCTL_TEST_DOCKER_HOST;
const fake = fakeComponent;
const suite = fake.container!.image;

describe('the Docker runtime on a real engine', () => {
  let docker: Docker;
  beforeAll(async () => {
    if (!host) throw new Error('OUTBOXCTL_TEST_DOCKER_HOST is not set: run `bash .ci/container-engine.sh` and export what it prints');
    process.env.DOCKER_HOST = host;
    docker = await connectEngine(process.env);
  });
  const stacks: string[] = [];
  afterAll(async () => {
    for (const stack of stacks) {
      for (const c of await docker.listContainers({ all: true, filters: labelFilter(stack) })) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: labelFilter(stack) })) await docker.getNetwork(n.Id).remove();
      for (const v of (await docker.listVolumes({ filters: labelFilter(stack) })).Volumes ?? []) await docker.getVolume(v.Name).remove();
    }
  });

  it('runs a component as a labelled container: ready by its log line, logs, usage, found by label, stopped and removed; volume and network kept', async () => {
    const stack = `t${Date.now().toString(36)}`;
    stacks.push(stack);
    const paths = stackPaths(await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-')), stack);
    const runtime = await loadRuntime('docker');
    const port = await freePort();
    const ctx = serviceContext(fake, { paths, env: process.env, host: '127.0.0.1', ports: { main: port }, endpoints: {}, artifacts: {} });
    const started = await startService(runtime, fake, ctx, { timeoutMs: 60_000 });

    const recorded = (await readState(paths))!.services.fake!;
    expect(recorded).toMatchObject({ runtime: 'docker', image: suite, ports: { main: port } });
    const id = (recorded as { containerId: string }).containerId;
    expect(id).toBe((started.service as { containerId: string }).containerId);
    expect(runtime.identify(recorded)).toEqual({ id: `container ${id.slice(0, 12)}`, key: id, pid: null });
    expect(started.peerEndpoints).toEqual({});
    expect(runtime.peerAddress(fake, { host: '127.0.0.1', ports: { main: port } })).toEqual({ host: 'fake', ports: { main: 8000 } });

    const info = await docker.getContainer(id).inspect();
    expect(info.Name.replace(/^\//, '')).toBe(`${stack}-fake`);
    expect(info.Config.Labels).toMatchObject({ 'outboxctl.stack': stack, 'outboxctl.service': 'fake' });
    expect((info.Config as { StopTimeout?: number }).StopTimeout).toBe(5);
    expect(info.HostConfig.PortBindings).toEqual({ '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(await isServiceAlive(recorded)).toBe(true);
    expect(await runtime.logs(paths, fake.name)).toEqual(['fake starting', 'fake listening']);
    expect(await runtime.logs(paths, fake.name, { tail: 1 })).toEqual(['fake listening']);
    expect(await runtime.usage(recorded)).toBeGreaterThan(0);
    expect((await runtime.find(paths)).map((s) => (s as { containerId: string }).containerId)).toEqual([id]);

    expect(await stopService(paths, fake, recorded)).toBe('stopped');
    expect(await isServiceAlive(recorded)).toBe(false);
    expect(await docker.listContainers({ all: true, filters: labelFilter(stack) })).toEqual([]);
    expect(((await docker.listVolumes({ filters: labelFilter(stack, 'fake') })).Volumes ?? []).map((v) => v.Name)).toEqual([`outboxctl-${stack}-fake`]);
    expect((await docker.listNetworks({ filters: labelFilter(stack) })).map((n) => n.Name)).toEqual([`outboxctl-${stack}`]);
    // What a recreated container needs again: its ports, and the image it ran.
    expect((await readState(paths))!.services.fake).toEqual({ runtime: 'docker', host: '127.0.0.1', ports: { main: port }, version: '1.0', image: suite });
  });

  it('a container that never gets ready is removed again, and the error shows its log', async () => {
    const stack = `t${Date.now().toString(36)}s`;
    stacks.push(stack);
    const paths = stackPaths(await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-')), stack);
    const runtime = await loadRuntime('docker');
    const silent: Component = {
      ...fake,
      container: { ...fake.container!, command: () => ['sh', '-c', "trap 'exit 0' TERM; echo fake starting; while :; do sleep 1; done"] },
    };
    const ctx = serviceContext(silent, { paths, env: process.env, host: '127.0.0.1', ports: { main: await freePort() }, endpoints: {}, artifacts: {} });
    const error = await startService(runtime, silent, ctx, { timeoutMs: 3_000 }).catch((e: unknown) => e as Error & { code: string; details: string[] });
    expect(error).toMatchObject({ code: 'SERVICE_NOT_READY' });
    expect((error as { details: string[] }).details).toContain('  fake starting');
    expect(await docker.listContainers({ all: true, filters: labelFilter(stack) })).toEqual([]);
  });

  it('no engine at DOCKER_HOST is one sentence with the fix', async () => {
    await expect(connectEngine({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' })).rejects.toThrow(
      'Cannot reach the Docker engine: /nonexistent/docker.sock does not exist.',
    );
    await expect(connectEngine({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).rejects.toThrow(/DOCKER_HOST=tcp:\/\/127\.0\.0\.1:2375 is not a unix:\/\/ socket/);
  });
});
