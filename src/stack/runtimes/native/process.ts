import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { type Clock, systemClock } from '../../../lib/clock.js';

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
    return text
      .split('\n')
      .filter((line, i, all) => line !== '' || i < all.length - 1)
      .slice(-lines);
  } catch {
    return [];
  }
}

let bootId: string | undefined | null = null;
function currentBootId(): string | undefined {
  if (bootId === null) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

interface ProcStat {
  state: string;
  pgrp: number;
  session: number;
  startTime: string;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesized command: state(3) ppid(4) pgrp(5) session(6) … starttime(22).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, pgrp: Number(fields[2]), session: Number(fields[3]), startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

/**
 * Who a pid is: boot id + start time. A recorded identity that no longer matches means the
 * pid was reused by another process, which must never be signalled. Undefined off Linux.
 */
export function processIdentity(pid: number): string | undefined {
  const stat = procStat(pid);
  const boot = currentBootId();
  return stat && boot ? `${boot}:${stat.startTime}` : undefined;
}

/** Live (non-zombie) members of a process group; off Linux, whether the group answers kill(0). */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** True while a non-zombie process of the group led by `pgid` exists. */
export function isGroupAlive(pgid: number | undefined): pgid is number {
  if (!pgid || pgid <= 0) return false;
  return groupMembers(pgid).length > 0;
}

/** True while `pid` runs and is not a zombie. */
export function isRunning(pid: number | undefined): pid is number {
  if (!isAlive(pid)) return false;
  return procStat(pid)?.state !== 'Z';
}

export interface GroupStopOptions extends StopOptions {
  /** Signal only the leader first (PostgreSQL stops its own children); else the whole group. */
  leaderOnly?: boolean;
  /** Not a group leader: signal and wait for this pid only. */
  single?: boolean;
}

/**
 * Stops a detached service: its signal (to the leader or the whole group), a grace period,
 * then SIGKILL to every process left. Resolves once none is left (zombies count as gone),
 * or after a last short deadline.
 */
export async function stopGroup(pgid: number, options: GroupStopOptions = {}): Promise<'stopped' | 'killed' | 'not-running'> {
  const clock = options.clock ?? systemClock;
  const alive = () => (options.single ? isRunning(pgid) : isGroupAlive(pgid));
  if (!alive()) return 'not-running';
  const target = options.single || options.leaderOnly ? pgid : -pgid;
  try {
    process.kill(target, options.signal ?? 'SIGTERM');
  } catch {
    // The leader may be gone while others of the group remain: they get SIGKILL below.
  }
  const deadline = clock.now() + (options.graceMs ?? 30_000);
  while (clock.now() < deadline) {
    if (!alive()) return 'stopped';
    await clock.sleep(50);
  }
  try {
    process.kill(options.single ? pgid : -pgid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  const killDeadline = clock.now() + 5_000;
  while (alive() && clock.now() < killDeadline) await clock.sleep(50);
  return 'killed';
}

/** Resident memory of every process in a group, in bytes (Linux /proc; 0 elsewhere). */
export async function groupRssBytes(pgid: number): Promise<number> {
  let total = 0;
  for (const pid of groupMembers(pgid)) {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb) total += Number(kb) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

/** True when `arg` is `dir` or a path under it, alone or as an option's value (`-Dx=<dir>/…`). */
function namesPathUnder(arg: string, dir: string): boolean {
  const value = arg.slice(arg.indexOf('=') + 1);
  return [arg, value].some((a) => a === dir || a.startsWith(`${dir}/`));
}

/**
 * Running services of the stack in `dir`, found without its state: newest first (the order to stop
 * them in, as they started after what they depend on).
 */
export function servicesNaming(dir: string): number[] {
  const root = dir.replace(/\/+$/, '');
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: { pid: number; startTime: number }[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid) continue;
    // Whole path components of an argument, never a substring (stack "pa" is not "pa2"), and only
    // session leaders, as spawnDetached starts every service (a `tail -f` of its log is none).
    const stat = procStat(pid);
    if (!stat || stat.session !== pid || stat.state === 'Z') continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((arg) => namesPathUnder(arg, root))) found.push({ pid, startTime: Number(stat.startTime) });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found.sort((a, b) => b.startTime - a.startTime).map((p) => p.pid);
}
