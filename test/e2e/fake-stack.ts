import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { stackPaths } from '../../src/stack/paths.js';
import { isRunning } from '../../src/stack/runtimes/native/process.js';
import { LOCAL_CONTEXT_ENV, ROOT } from '../helpers/cli.js';

/** The built CLI with the fake services `fakedb` and `fakebus` registered (see fake-stack-cli.mjs). */
export const FAKE_CLI = fileURLToPath(new URL('./fake-stack-cli.mjs', import.meta.url));

export const FAKE_SERVICES = ['fakedb', 'fakebus'] as const;
export const UP_FAKES = ['up', '--runtime', 'native', '--services', FAKE_SERVICES.join(',')];

export const newHome = () => mkdtemp(path.join(os.tmpdir(), 'outboxctl-fakes-'));

/** Preferred ports of the fakes in this home: a pair of its own between 20000 and 59999. */
function portBase(home: string): number {
  let hash = 0;
  for (const c of home) hash = (hash * 31 + c.charCodeAt(0)) % 20_000;
  return 20_000 + hash * 2;
}

/** Runs the fake CLI as its own process in `home`. */
export function fakeCli(home: string, args: string[], env: NodeJS.ProcessEnv = {}): ResultPromise<{ reject: false }> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  return execa(process.execPath, [FAKE_CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...LOCAL_CONTEXT_ENV,
      OUTBOXCTL_HOME: home,
      NO_COLOR: '1',
      FAKE_PORT_BASE: String(portBase(home)),
      ...env,
    },
    extendEnv: false,
    reject: false,
    cwd: ROOT,
  });
}

/** Live processes with `<stack dir>/data/<service>` as a whole argument: every instance of that fake service. */
export function pidsOf(home: string, stack: string, service: string): number[] {
  const dataDir = path.join(stackPaths(home, stack).dataDir, service);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(dataDir) && isRunning(Number(entry))) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** `down --volumes` of each stack, then SIGKILL for anything of theirs still running (a failed test leaves nothing). */
export async function removeStacks(home: string, stacks: string[]): Promise<void> {
  for (const stack of stacks) {
    await fakeCli(home, ['--stack', stack, 'down', '--volumes']);
    for (const service of FAKE_SERVICES) for (const pid of pidsOf(home, stack, service)) process.kill(pid, 'SIGKILL');
  }
}
