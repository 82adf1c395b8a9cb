import type { ContextTargets, ResolveInput } from '../lib/config.js';
import { UsageError } from '../lib/errors.js';
import type { Io } from '../lib/output.js';
import { Output } from '../lib/output.js';
import { resolveHome, resolveStackName, type StackPaths, stackPaths } from '../stack/paths.js';
import type { StackState } from '../stack/state.js';

/** What every command handler receives: parsed flags, output, the stack or the context it works on. */
export interface CommandContext {
  io: Io;
  out: Output;
  verbose: boolean;
  json: boolean;
  stack: StackPaths;
  /** The selected context (`--context`, OUTBOXCTL_CONTEXT, current-context): its endpoints replace the stack's. */
  context?: ContextTargets;
  /** All options, global ones included (camelCase, as commander names them). */
  flags: Record<string, unknown>;
}

export interface CreateOptions {
  /** False for `context …` itself: it manages the file, so a broken selection must not stop it. */
  selectContext?: boolean;
}

/**
 * Builds a command's context; a context named by flag, env or the config file that does not exist is
 * a UsageError. A server `up` started (`--managed`) belongs to its stack: it never selects a context,
 * whatever the config file's current-context or the environment say.
 */
export async function createContext(io: Io, flags: Record<string, unknown>, options: CreateOptions = {}): Promise<CommandContext> {
  const json = flags.json === true;
  const name = resolveStackName(typeof flags.stack === 'string' ? flags.stack : undefined, io.env);
  const managed = flags.managed !== undefined && flags.managed !== false;
  const select = options.selectContext !== false && !managed;
  const context = select ? await (await import('../contexts/load.js')).loadSelectedContext(flags, io.env) : undefined;
  return {
    io,
    out: new Output(io, json),
    verbose: flags.verbose === true,
    json,
    stack: stackPaths(resolveHome(io.env), name),
    ...(context ? { context } : {}),
    flags,
  };
}

/** The stack's state, or undefined under a context: a context's commands never read the local stack (environments never mix). */
export async function stackStateOf(ctx: CommandContext): Promise<StackState | undefined> {
  if (ctx.context) return undefined;
  const { readState } = await import('../stack/state.js');
  return readState(ctx.stack);
}

/**
 * What endpoint resolution takes for this command: its flags, the environment, the context or the
 * stack's state (`state`: one the caller already read, not read again; ignored under a context).
 */
export async function resolveInputOf(ctx: CommandContext, state?: StackState): Promise<ResolveInput> {
  return { flags: ctx.flags, env: ctx.io.env, ...(ctx.context ? { context: ctx.context } : { state: state ?? (await stackStateOf(ctx)) }) };
}

/** What each process command does to the local stack, for its refusal on a context. */
const PROCESS_VERBS: Record<string, string> = {
  up: 'starts',
  down: 'stops',
  restart: 'restarts',
  stop: 'stops',
  exec: 'runs a command beside',
  logs: 'reads the logs of',
};

/** Commands that start or stop processes refuse on a context: nothing is started or stopped on somebody else's cluster. */
export function refuseOnContext(ctx: CommandContext, command: string): void {
  if (!ctx.context) return;
  throw new UsageError(
    `\`outboxctl ${command}\` ${PROCESS_VERBS[command] ?? 'works on'} the local stack's processes, and context "${ctx.context.name}" is a remote environment, where outboxctl starts and stops nothing.`,
    { hint: 'Run it on the local stack with --context local (or `outboxctl context use local`).' },
  );
}

/** A command module's default export; a returned number becomes the exit code (anything else: 0). */
export type Handler = (ctx: CommandContext, ...args: string[]) => Promise<unknown>;
