import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { UsageError, UserError } from '../lib/errors.js';
import type { Io, Stream } from '../lib/output.js';
import { peerPort, portsBy } from './components/container-ports.js';
import { availableServices, component as componentOf } from './components/index.js';
import type { Component, EndpointContext, ServiceName } from './components/types.js';
import type { StackPaths } from './paths.js';
import { runtimeOf } from './runtimes/index.js';
import { clientHostOf, isServiceAlive, stackSecret } from './service.js';
import { readState, type ServiceState } from './state.js';

export interface ExecInput {
  paths: StackPaths;
  /** SERVICE as typed. */
  service: string | undefined;
  /** CMD… after `--`. */
  command: string[];
  io: Io;
}

/** Addresses a host-side client uses for a bind address (0.0.0.0 is not one). */

/**
 * The service as the command sees it where it runs: natively the host's view (its recorded host
 * and ports); in its container 127.0.0.1 and the container's own ports, the peers' listener where
 * there is one (Kafka's internal listener is the one that advertises an address reachable inside).
 */
export function execView(paths: StackPaths, component: Component, service: ServiceState): EndpointContext {
  const secret = (name: string) => stackSecret(paths, name);
  if (service.runtime === 'docker') {
    return { host: '127.0.0.1', ports: portsBy(component, peerPort), secret };
  }
  return { host: clientHostOf(service.host ?? '127.0.0.1'), ports: service.ports, secret };
}

/** Io's output streams are writers of text in tests: the runtimes get real Writables (a process stream is passed as is). */
function writable(stream: Stream): NodeJS.WritableStream {
  if (stream instanceof Writable || (stream as { fd?: unknown }).fd !== undefined) return stream as unknown as NodeJS.WritableStream;
  const decoder = new StringDecoder('utf8');
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      stream.write(typeof chunk === 'string' ? chunk : decoder.write(chunk));
      callback();
    },
    final(callback) {
      const rest = decoder.end();
      if (rest) stream.write(rest);
      callback();
    },
  });
}

function serviceName(name: string | undefined): ServiceName {
  const services = availableServices();
  if (!name)
    throw new UsageError('Name the service to run the command in.', { hint: `e.g. outboxctl exec postgres -- psql; services: ${services.join(', ')}.` });
  if (!(services as string[]).includes(name)) throw new UsageError(`Unknown service "${name}".`, { hint: `Services: ${services.join(', ')}.` });
  return name as ServiceName;
}

/**
 * `outboxctl exec SERVICE -- CMD…`, like `docker compose exec`: runs CMD where the service runs
 * (its container, or this machine for a native one) with the service's settings in the
 * environment (`execEnv`); resolves with CMD's exit code, which becomes outboxctl's.
 */
export async function execInService(input: ExecInput): Promise<number> {
  const name = serviceName(input.service);
  if (input.command.length === 0) {
    throw new UsageError('Name the command to run after `--`.', {
      hint: `e.g. outboxctl exec ${name} -- ${name === 'kafka' ? 'kafka-topics.sh --list' : 'env'}`,
    });
  }
  const stack = input.paths.name;
  const service = (await readState(input.paths))?.services[name];
  if (!service || !(await isServiceAlive(service))) {
    throw new UserError('SERVICE_NOT_RUNNING', `Service ${name} of stack "${stack}" is not running; start it with \`outboxctl up\`.`, {
      hint: `Only it and what it needs: outboxctl ${stack === 'default' ? '' : `--stack ${stack} `}up --services ${name}`,
    });
  }
  const component = componentOf(name);
  const runtime = await runtimeOf(service);
  const env = (await component.execEnv?.(execView(input.paths, component, service))) ?? {};
  const { io } = input;
  return runtime.exec(component, service, {
    paths: input.paths,
    command: input.command,
    env,
    callerEnv: io.env,
    tty: Boolean((io.stdin as { isTTY?: boolean }).isTTY && io.stdout.isTTY),
    stdin: io.stdin,
    stdout: writable(io.stdout),
    stderr: writable(io.stderr),
  });
}
