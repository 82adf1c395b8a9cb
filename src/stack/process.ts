import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { systemClock, type Clock } from './readiness.js';

/** True while a process with this pid exists (zombies of others count as alive). */
export function isAlive(pid: number | undefined): pid is number {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DetachedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
}

/**
 * Starts a long-running process in its own process group with output to a log file,
 * so it outlives the Node process that started it.
 */
export async function spawnDetached(command: string, args: string[], options: DetachedOptions): Promise<number> {
  const log = await open(options.logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
  clock?: Clock;
}

/** Signals the process (gracefully), waits, then SIGKILLs it. Resolves once it is gone. */
export async function stopProcess(pid: number, options: StopOptions = {}): Promise<'stopped' | 'killed' | 'not-running'> {
  const clock = options.clock ?? systemClock;
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, options.signal ?? 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const deadline = clock.now() + (options.graceMs ?? 30_000);
  while (clock.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await clock.sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  while (isAlive(pid)) await clock.sleep(50);
  return 'killed';
}

/** The last `lines` lines of a log file ('' when it does not exist). */
export async function tailFile(file: string, lines = 50): Promise<string[]> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1).slice(-lines);
  } catch {
    return [];
  }
}

/** True while any process of the group led by `pgid` exists. */
export function isGroupAlive(pgid: number | undefined): pgid is number {
  if (!pgid || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface GroupStopOptions extends StopOptions {
  /** Signal only the leader first (PostgreSQL stops its own children); else the whole group. */
  leaderOnly?: boolean;
}

/**
 * Stops a detached service: its signal (to the leader or the whole group), a grace period,
 * then SIGKILL to every process left in the group. Resolves once none is left.
 */
export async function stopGroup(pgid: number, options: GroupStopOptions = {}): Promise<'stopped' | 'killed' | 'not-running'> {
  const clock = options.clock ?? systemClock;
  if (!isGroupAlive(pgid)) return 'not-running';
  try {
    process.kill(options.leaderOnly ? pgid : -pgid, options.signal ?? 'SIGTERM');
  } catch {
    // The leader may be gone while others of the group remain: they get SIGKILL below.
  }
  const deadline = clock.now() + (options.graceMs ?? 30_000);
  while (clock.now() < deadline) {
    if (!isGroupAlive(pgid)) return 'stopped';
    await clock.sleep(50);
  }
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  while (isGroupAlive(pgid)) await clock.sleep(50);
  return 'killed';
}

/** Resident memory of every process in a group, in bytes (Linux /proc; 0 elsewhere). */
export async function groupRssBytes(pgid: number): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  let total = 0;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesized command: state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
      if (kb) total += Number(kb) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}
