import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { createLogger } from '../../../lib/logger.js';
import type { Component } from '../../components/types.js';
import type { ServiceState } from '../../state.js';
import { withBootstrapServer } from '../native/kafka-tools.js';
import type { ExecRequest } from '../runtime.js';
import { engineOf } from './engine.js';

const log = createLogger('docker');

/** An image's PATH when its config names none (Docker's default). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The container's own PATH with the component's `execPath` first (Kafka's bin/): an exec's Env replaces the image's. */
async function execPath(container: Docker.Container, component: Component): Promise<string> {
  const info = await container.inspect();
  const own = (info.Config.Env ?? []).find((e) => e.startsWith('PATH='))?.slice('PATH='.length) || DEFAULT_PATH;
  return [...(component.container?.execPath ?? []), own].join(':');
}

type TtyIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
type TtyOut = NodeJS.WritableStream & { columns?: number; rows?: number; on(event: 'resize', listener: () => void): unknown };

/** With a TTY: the terminal in raw mode (keys, Ctrl-C included, go to the command) and its size followed. */
function attachTerminal(exec: Docker.Exec, request: ExecRequest): () => void {
  const stdin = request.stdin as TtyIn;
  const stdout = request.stdout as TtyOut;
  const raw = Boolean(stdin.isTTY && stdin.setRawMode);
  if (raw) stdin.setRawMode!(true);
  const resize = () => {
    if (stdout.columns && stdout.rows) exec.resize({ h: stdout.rows, w: stdout.columns }).catch(() => undefined);
  };
  resize();
  stdout.on('resize', resize);
  return () => {
    stdout.removeListener('resize', resize);
    if (raw) stdin.setRawMode!(false);
  };
}

/** Resolves when the engine closes the exec's stream (the command ended). */
const ended = (stream: Duplex) =>
  new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });

/** The exit code, once the engine has recorded it (the stream can close a moment before). */
async function exitCode(exec: Docker.Exec): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (Date.now() > deadline) throw new Error('the engine did not report the exit code of the command within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `outboxctl exec` in a container, as `docker compose exec`: the command runs in the service's
 * container with its `execEnv` (the service as seen from inside) and the component's `execPath`
 * first on PATH; stdin goes in, stdout and stderr come out apart (one stream with a TTY), and the
 * command's exit code is the result.
 */
export async function dockerExec(component: Component, service: ServiceState, request: ExecRequest): Promise<number> {
  if (service.runtime !== 'docker' || !service.containerId) throw new Error(`${component.name} has no container to exec in`);
  // The engine the container was created on (recorded), else the caller's DOCKER_HOST.
  const docker = await engineOf(service, request.callerEnv);
  const container = docker.getContainer(service.containerId);
  const command = component.name === 'kafka' ? withBootstrapServer(request.command, request.env.KAFKA_BOOTSTRAP_SERVERS) : request.command;
  const env = { ...request.env, PATH: await execPath(container, component) };
  log('exec in %s: %o', service.containerId.slice(0, 12), command);
  const exec = await container.exec({
    Cmd: command,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: request.tty,
  });
  const stream = await exec.start({ hijack: true, stdin: true, Tty: request.tty });
  const done = ended(stream);
  if (request.tty) stream.pipe(request.stdout, { end: false });
  else docker.modem.demuxStream(stream, request.stdout, request.stderr);
  const detach = request.tty ? attachTerminal(exec, request) : () => undefined;
  // The end of the input half-closes the connection: the command reads EOF, its output still comes.
  request.stdin.pipe(stream);
  try {
    await done;
  } finally {
    request.stdin.unpipe(stream);
    detach();
  }
  return exitCode(exec);
}
