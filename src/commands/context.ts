import type { Io } from '../lib/output.js';
import { Output } from '../lib/output.js';
import { resolveHome, resolveStackName, type StackPaths, stackPaths } from '../stack/paths.js';

/** What every command handler receives: parsed flags, output, the stack it works on. */
export interface CommandContext {
  io: Io;
  out: Output;
  verbose: boolean;
  json: boolean;
  stack: StackPaths;
  /** All options, global ones included (camelCase, as commander names them). */
  flags: Record<string, unknown>;
}

export function createContext(io: Io, flags: Record<string, unknown>): CommandContext {
  const json = flags.json === true;
  const name = resolveStackName(typeof flags.stack === 'string' ? flags.stack : undefined, io.env);
  return {
    io,
    out: new Output(io, json),
    verbose: flags.verbose === true,
    json,
    stack: stackPaths(resolveHome(io.env), name),
    flags,
  };
}

/** A command module's default export; a returned number becomes the exit code (anything else: 0). */
export type Handler = (ctx: CommandContext, ...args: string[]) => Promise<unknown>;
