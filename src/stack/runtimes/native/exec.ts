import { constants } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { EnvironmentError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/logger.js';
import type { Component } from '../../components/types.js';
import type { ServiceState } from '../../state.js';
import type { ExecRequest } from '../runtime.js';
import { ensureKafkaTools, withBootstrapServer } from './kafka-tools.js';

const log = createLogger('exec');

/** Where a missing program comes from, for the hint (Debian's package names). */
const PACKAGES: Record<string, string> = {
  psql: 'postgresql-client',
  pg_dump: 'postgresql-client',
  pg_restore: 'postgresql-client',
  pg_isready: 'postgresql-client',
  kcat: 'kcat',
  curl: 'curl',
  jq: 'jq',
};

/** A program that is not on PATH: one sentence with the fix, and a shell's exit code 127. */
class ProgramNotFound extends EnvironmentError {
  override get exitCode(): number {
    return 127;
  }
}

/** A file that exists but cannot be run: a shell's 126. */
class ProgramNotExecutable extends EnvironmentError {
  override get exitCode(): number {
    return 126;
  }
}

function notFound(program: string, service: string): ProgramNotFound {
  const name = path.basename(program);
  const pkg = PACKAGES[name];
  return new ProgramNotFound('EXEC_NOT_FOUND', `${program} was not found on this machine: natively, \`outboxctl exec ${service}\` runs the command here.`, {
    hint: pkg ? `Install it (Debian: apt-get install ${pkg}) and run it again.` : `Install ${name} (or check its spelling) and run it again.`,
  });
}

type StdioMode = 'inherit' | 'pipe';

/** The process's own stdio is handed to the command as is (a terminal stays a terminal); other streams are piped. */
const modeOf = (stream: object, fd: number): StdioMode => ((stream as { fd?: unknown }).fd === fd ? 'inherit' : 'pipe');

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * While the command runs it owns the signals: outboxctl's own handlers (clean up, exit 130) step
 * aside and each signal goes to the command, which decides. Ctrl-C on a terminal already reached
 * it (the terminal signals the whole foreground group), so SIGINT is then not sent twice.
 */
function forwardSignals(child: ResultPromise, fromTerminal: boolean): () => void {
  const saved = FORWARDED.map((signal) => [signal, process.listeners(signal)] as const);
  for (const signal of FORWARDED) {
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (!(fromTerminal && signal === 'SIGINT')) child.kill(signal);
    });
  }
  return () => {
    for (const [signal, listeners] of saved) {
      process.removeAllListeners(signal);
      for (const listener of listeners) process.on(signal, listener);
    }
  };
}

/** Runs a command as a child of outboxctl with the given environment; resolves with its exit code (128 + n for signal n, as a shell). */
async function runForeground(command: string[], env: NodeJS.ProcessEnv, request: ExecRequest, service: string): Promise<number> {
  const [program, ...args] = command as [string, ...string[]];
  const stdin = modeOf(request.stdin, 0);
  const stdout = modeOf(request.stdout, 1);
  const stderr = modeOf(request.stderr, 2);
  log('%s: %o', service, command);
  const child = execa(program, args, { env, extendEnv: false, stdin, stdout, stderr, buffer: false, reject: false, stripFinalNewline: false });
  const restore = forwardSignals(child, Boolean((request.stdin as { isTTY?: boolean }).isTTY));
  if (stdin === 'pipe' && child.stdin) {
    // A command that does not read its input closes the pipe: that is not an error.
    child.stdin.on('error', () => undefined);
    request.stdin.pipe(child.stdin);
  }
  if (stdout === 'pipe') child.stdout?.pipe(request.stdout, { end: false });
  if (stderr === 'pipe') child.stderr?.pipe(request.stderr, { end: false });
  try {
    const result = await child;
    if (result.code === 'ENOENT') throw notFound(program, service);
    if (result.code === 'EACCES') {
      throw new ProgramNotExecutable('EXEC_NOT_EXECUTABLE', `${program} cannot be run: it is not an executable file.`, {
        hint: `Check its permissions (chmod +x ${program}).`,
      });
    }
    if (result.signal) return 128 + (constants.signals[result.signal] ?? 0);
    return result.exitCode ?? 1;
  } finally {
    restore();
    if (stdin === 'pipe' && child.stdin) request.stdin.unpipe(child.stdin);
  }
}

/**
 * `outboxctl exec` natively: the command runs on this machine with the caller's environment and
 * the service's settings (`execEnv`); for Kafka, PATH starts with the stack's generated tool
 * scripts (kafka-topics.sh and friends over the Maven-resolved jars) and a tool that takes
 * `--bootstrap-server` gets the stack's when it names none.
 */
export async function nativeExec(component: Component, _service: ServiceState, request: ExecRequest): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...request.callerEnv, ...request.env };
  let command = request.command;
  if (component.name === 'kafka') {
    const bin = await ensureKafkaTools(request.paths, request.callerEnv, (message) => {
      // The first line of a resolution and its result; not a line per downloaded file.
      if (!/files downloaded/.test(message)) request.stderr.write(`${message}\n`);
    });
    env.PATH = [bin, request.callerEnv.PATH].filter(Boolean).join(path.delimiter);
    command = withBootstrapServer(command, request.env.KAFKA_BOOTSTRAP_SERVERS);
  }
  return runForeground(command, env, request, component.name);
}
