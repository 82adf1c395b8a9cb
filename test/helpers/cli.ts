import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { main } from '../../src/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const BIN = fileURLToPath(new URL('../../bin/outboxctl', import.meta.url));

/**
 * The local stack, whatever the developer's config file makes current: a test that means a context
 * says so (`--context`, or its own OUTBOXCTL_CONTEXT, which wins; `OUTBOXCTL_CONTEXT: undefined`
 * leaves it unset, for the config file's current-context).
 */
export const LOCAL_CONTEXT_ENV = { OUTBOXCTL_CONTEXT: 'local' } as const;
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the CLI in-process with captured output; `stdin` is what the command reads as its input (default: nothing). */
export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT, stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    // By default an input that ends at once, as `< /dev/null`: a command that reads it never waits.
    stdin: Readable.from(stdin ? [stdin] : []),
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...LOCAL_CONTEXT_ENV, ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

/** Runs the built CLI as a real process (bin/outboxctl → dist). */
export async function spawnCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await execa(BIN, argv, { env: { NO_COLOR: '1', ...LOCAL_CONTEXT_ENV, ...env }, reject: false, cwd: ROOT });
  return { code: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
