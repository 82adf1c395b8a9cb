import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPaths } from '../../src/stack/paths.js';
import { connectEngine, labelFilter } from '../../src/stack/runtimes/docker/engine.js';
import { emptyState, writeState } from '../../src/stack/state.js';
import { cli } from '../helpers/cli.js';

/**
 * `outboxctl exec` on a real engine (Podman's Docker API, OUTBOXCTL_TEST_DOCKER_HOST): a labelled
 * container of the local base image recorded as the stack's kafka and postgres, so the command runs
 * in it with each service's in-container settings; stdout and stderr apart, stdin through, the exit
 * code as outboxctl's.
 */
const host = process.env.OUTBOXCTL_TEST_DOCKER_HOST;
const image = process.env.OUTBOXCTL_TEST_BASE_IMAGE ?? 'localhost/outboxctl-base:bookworm';
const stack = `x${Date.now().toString(36)}`;

describe('outboxctl exec in a container', () => {
  let docker: Docker;
  let home: string;
  let containerId: string;
  const run = (args: string[], stdin = '') => cli(['--stack', stack, 'exec', ...args], { OUTBOXCTL_HOME: home, DOCKER_HOST: host }, undefined, stdin);

  beforeAll(async () => {
    if (!host) throw new Error('OUTBOXCTL_TEST_DOCKER_HOST is not set: run `bash .ci/container-engine.sh` and export what it prints');
    process.env.DOCKER_HOST = host;
    docker = await connectEngine(process.env);
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-exec-'));
    const container = await docker.createContainer({
      name: `${stack}-kafka`,
      Image: image,
      Cmd: ['sleep', 'infinity'],
      Labels: { 'outboxctl.stack': stack, 'outboxctl.service': 'kafka' },
      StopTimeout: 1,
    });
    await container.start();
    containerId = container.id;
    // Recorded as the stack's kafka and postgres (published ports that nothing uses here).
    const state = emptyState(stack);
    state.runtime = 'docker';
    state.secrets.postgresPassword = 'in-container-secret';
    for (const service of ['kafka', 'postgres']) state.services[service] = { runtime: 'docker', containerId, image, host: '127.0.0.1', ports: { main: 1 } };
    await writeState(stackPaths(home, stack), state);
    // Kafka's image has its scripts in /opt/kafka/bin (the kafka component's execPath): a stand-in that echoes its arguments.
    const setup = await run([
      'kafka',
      '--',
      'sh',
      '-c',
      'mkdir -p /opt/kafka/bin && printf "#!/bin/sh\\necho \\"\\$@\\"\\n" > /opt/kafka/bin/kafka-topics.sh && chmod +x /opt/kafka/bin/kafka-topics.sh',
    ]);
    expect(setup.code, setup.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const c of (await docker?.listContainers({ all: true, filters: labelFilter(stack) })) ?? []) await docker.getContainer(c.Id).remove({ force: true });
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("returns the command's stdout and stderr apart and its exit code", async () => {
    const r = await run(['kafka', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await run(['kafka', '--', 'true'])).code).toBe(0);
  });

  it('passes stdin through to the end (EOF reaches the command)', async () => {
    const r = await run(['kafka', '--', 'sh', '-c', 'cat; echo done'], 'hello\nworld\n');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello\nworld\ndone\n');
    expect(r.code).toBe(0);
  });

  it("sets the service's settings as seen inside its container", async () => {
    const pg = await run(['postgres', '--', 'sh', '-c', 'echo "$PGHOST $PGPORT $PGUSER $PGPASSWORD $PGDATABASE"']);
    expect(pg.stdout).toBe('127.0.0.1 5432 postgres in-container-secret outbox\n');
    // Kafka's internal listener (the peers' 19092), not the published port, and its bin/ first on PATH.
    const kafka = await run(['kafka', '--', 'sh', '-c', 'echo "$KAFKA_BOOTSTRAP_SERVERS"; echo "$PATH"']);
    expect(kafka.stdout.split('\n').slice(0, 2)).toEqual(['127.0.0.1:19092', expect.stringMatching(/^\/opt\/kafka\/bin:.*\/usr\/bin/)]);
  });

  it('adds --bootstrap-server to a Kafka tool that names none, and keeps an explicit one', async () => {
    expect((await run(['kafka', '--', 'kafka-topics.sh', '--list'])).stdout).toBe('--bootstrap-server 127.0.0.1:19092 --list\n');
    expect((await run(['kafka', '--', 'kafka-topics.sh', '--bootstrap-server', 'kafka:19092', '--list'])).stdout).toBe(
      '--bootstrap-server kafka:19092 --list\n',
    );
  });

  it('a program missing in the container exits 127, as the engine reports it', async () => {
    const r = await run(['kafka', '--', 'no-such-program']);
    expect(r.code).toBe(127);
  });

  it('a service whose container is gone is not running: one sentence with the fix', async () => {
    await docker.getContainer(containerId).stop({ t: 1 });
    const r = await run(['kafka', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`error: Service kafka of stack "${stack}" is not running; start it with \`outboxctl up\`.`);
  });
});
