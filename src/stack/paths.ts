import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../lib/errors.js';

export interface StackPaths {
  home: string;
  name: string;
  dir: string;
  stateFile: string;
  dataDir: string;
  logDir: string;
}

const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** `OUTBOXCTL_HOME`, else `$XDG_STATE_HOME/outboxctl`, else `~/.local/state/outboxctl`. */
export function resolveHome(env: NodeJS.ProcessEnv): string {
  if (env.OUTBOXCTL_HOME) return path.resolve(env.OUTBOXCTL_HOME);
  const stateHome = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'outboxctl');
}

/** `--stack`, else `OUTBOXCTL_STACK`, else `default`. */
export function resolveStackName(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const name = flag ?? env.OUTBOXCTL_STACK ?? 'default';
  if (!STACK_NAME.test(name)) {
    throw new UsageError(`Stack name "${name}" is not valid.`, {
      hint: 'Use 1-63 letters, digits, "-" or "_", starting with a letter or digit.',
    });
  }
  return name;
}

export function stackPaths(home: string, name: string): StackPaths {
  const dir = path.join(home, 'stacks', name);
  return {
    home,
    name,
    dir,
    stateFile: path.join(dir, 'state.json'),
    dataDir: path.join(dir, 'data'),
    logDir: path.join(dir, 'logs'),
  };
}
