import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { UserError } from '../lib/errors.js';
import type { StackPaths } from './paths.js';

export const STATE_SCHEMA_VERSION = 1;

export interface ServiceState {
  /** Pid of the process (native runtime) while it runs. */
  pid?: number;
  host?: string;
  port?: number;
  version?: string;
  startedAt?: string;
  /** Boot id + start time of `pid`: a mismatch means the pid was reused. */
  startId?: string;
  /** False for a process that does not lead its own process group (a hand-started server). */
  group?: boolean;
  [key: string]: unknown;
}

export interface StackState {
  schemaVersion: number;
  stack: string;
  runtime?: 'native' | 'docker';
  createdAt: string;
  updatedAt: string;
  services: Record<string, ServiceState>;
  /** Endpoints of the running stack, by endpoint name (see lib/config.ts). */
  endpoints: Record<string, string>;
  /** Generated credentials; the file is mode 0600 for this reason. */
  secrets: Record<string, string>;
  /** One-time set-up tasks of `up` done on this stack's data, with when (see plan.ts). */
  tasks?: Record<string, string>;
  /** Who runs the Elasticsearch sink. */
  sink?: 'connect' | 'embedded';
}

export function emptyState(stack: string, now = new Date()): StackState {
  const at = now.toISOString();
  return { schemaVersion: STATE_SCHEMA_VERSION, stack, createdAt: at, updatedAt: at, services: {}, endpoints: {}, secrets: {} };
}

/** Reads the stack's state; `undefined` when the stack has none yet. */
export async function readState(paths: StackPaths): Promise<StackState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: StackState;
  try {
    parsed = JSON.parse(text) as StackState;
  } catch {
    throw new UserError('STATE_CORRUPT', `The state file ${paths.stateFile} is not valid JSON.`, {
      hint: `Run \`outboxctl --stack ${paths.name} down --volumes\`: it stops the stack's processes and deletes ${paths.dir}.`,
    });
  }
  if (typeof parsed.schemaVersion !== 'number' || parsed.schemaVersion > STATE_SCHEMA_VERSION) {
    throw new UserError(
      'STATE_VERSION',
      `The state file ${paths.stateFile} has schema version ${String(parsed.schemaVersion)}, which this outboxctl does not understand.`,
      { hint: `Use the outboxctl version that created stack "${paths.name}", or a newer one.` },
    );
  }
  return { ...emptyState(paths.name), ...parsed };
}

/** Atomic write: a 0600 temp file in the same directory, fsync, then rename over the old file. */
export async function writeState(paths: StackPaths, state: StackState, now = new Date()): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const next: StackState = { ...state, schemaVersion: STATE_SCHEMA_VERSION, updatedAt: now.toISOString() };
  const temp = path.join(paths.dir, `.state.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(next, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, paths.stateFile);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Read-modify-write under the stack lock. */
export async function updateState(
  paths: StackPaths,
  change: (state: StackState) => StackState | void,
): Promise<StackState> {
  const current = (await readState(paths)) ?? emptyState(paths.name);
  const next = change(current) ?? current;
  await writeState(paths, next);
  return next;
}

export interface LockOptions {
  /** How long to wait for another command holding the lock. */
  waitMs?: number;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: () => void;
}

/**
 * Runs `fn` holding the stack's lock, so commands that change a stack never interleave.
 * The lock is a directory (`state.json.lock`) refreshed while held; a crashed holder's lock goes stale.
 */
export async function withStackLock<T>(paths: StackPaths, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const waitMs = options.waitMs ?? 120_000;
  const lockOptions = { lockfilePath: `${paths.stateFile}.lock`, stale: 15_000, update: 5_000 };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(paths.dir, { ...lockOptions, retries: 0 }).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ELOCKED') throw error;
      options.onWait?.();
      return lockfile.lock(paths.dir, {
        ...lockOptions,
        retries: { retries: Math.max(1, Math.ceil(waitMs / 500)), minTimeout: 500, maxTimeout: 500, factor: 1 },
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new UserError('STACK_LOCKED', `Stack "${paths.name}" is locked by another outboxctl command.`, {
        hint: 'Wait for it to finish and try again.',
      });
    }
    throw error;
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
