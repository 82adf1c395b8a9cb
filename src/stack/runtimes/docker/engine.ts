import Docker from 'dockerode';
import { EnvironmentError } from '../../../lib/errors.js';
import { networkCode } from '../../../lib/network-errors.js';
import { dockerSocket } from '../../engine.js';

/** Labels on everything the Docker runtime creates; found again by them, never by name alone. */
export const STACK_LABEL = 'outboxctl.stack';
export const SERVICE_LABEL = 'outboxctl.service';
/** The OUTBOXCTL_HOME a stack lives in: two homes may each have a stack of one name. */
export const HOME_LABEL = 'outboxctl.home';
/** On images outboxctl built (from compose/ or a build context given with --image). */
export const BUILT_LABEL = 'outboxctl.built';

/** The environment that names one engine socket. */
export const engineEnv = (socketPath: string): NodeJS.ProcessEnv => ({ DOCKER_HOST: `unix://${socketPath}` });

/** The engine a service's container was created on (its recorded socket), else the one `env` names. */
export function engineOf(service: { engine?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Docker> {
  return connectEngine(service.engine ? engineEnv(service.engine) : env);
}

/** The Engine API's "no such object": the only answer that means a thing is gone. */
export const isNotFound = (error: unknown) => (error as { statusCode?: number } | undefined)?.statusCode === 404;

/** What `call` answers, or undefined when the engine says the object is gone (404); any other failure stands. */
export async function unlessGone<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const PING_TIMEOUT_MS = 5_000;

/** `<stack>-<service>`: the container's name and, on the stack's network, its host name. */
export const containerName = (stack: string, service: string) => `${stack}-${service}`;
export const networkName = (stack: string) => `outboxctl-${stack}`;
export const volumeName = (stack: string, service: string) => `outboxctl-${stack}-${service}`;

/** Label filters of the Engine API for one stack (and one service). */
export function labelFilter(stack: string, service?: string): string {
  return JSON.stringify({ label: [`${STACK_LABEL}=${stack}`, ...(service ? [`${SERVICE_LABEL}=${service}`] : [])] });
}

const engines = new Map<string, Docker>();

/**
 * The engine DOCKER_HOST or /var/run/docker.sock names, checked with a ping; no engine, a socket
 * nobody serves and one this user may not open are each one sentence with the fix.
 */
export async function connectEngine(env: NodeJS.ProcessEnv): Promise<Docker> {
  const socketPath = dockerSocket(env);
  if (!socketPath) {
    throw new EnvironmentError(
      'DOCKER_UNAVAILABLE',
      `No Docker engine: ${env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST} is not a unix:// socket` : 'DOCKER_HOST is not set and /var/run/docker.sock does not exist'}.`,
      {
        hint: 'Start Docker (or `podman system service`) and point DOCKER_HOST at its socket, or use --runtime native.',
      },
    );
  }
  const cached = engines.get(socketPath);
  if (cached) return cached;
  const docker = new Docker({ socketPath });
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error(`no answer within ${PING_TIMEOUT_MS / 1000}s`), { code: 'ETIMEDOUT' })), PING_TIMEOUT_MS).unref(),
      ),
    ]);
  } catch (error) {
    const code = networkCode(error) ?? (error as { code?: string }).code;
    const why =
      code === 'EACCES'
        ? `this user may not open ${socketPath}`
        : code === 'ENOENT'
          ? `${socketPath} does not exist`
          : code === 'ECONNREFUSED'
            ? `nothing serves ${socketPath}`
            : (error as Error).message;
    throw new EnvironmentError('DOCKER_UNAVAILABLE', `Cannot reach the Docker engine: ${why}.`, {
      hint:
        code === 'EACCES'
          ? 'Add the user to the docker group (or run rootless Podman), or use --runtime native.'
          : 'Start the engine, or use --runtime native.',
      cause: error,
    });
  }
  engines.set(socketPath, docker);
  return docker;
}

/** Splits the Engine API's multiplexed log stream (8-byte frame headers) into text; a TTY stream has none. */
export function demultiplex(buffer: Buffer): string {
  let text = '';
  let at = 0;
  while (at + 8 <= buffer.length && buffer[at]! <= 2 && buffer[at + 1] === 0 && buffer[at + 2] === 0 && buffer[at + 3] === 0) {
    const size = buffer.readUInt32BE(at + 4);
    text += buffer.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return at === 0 ? buffer.toString('utf8') : text;
}
