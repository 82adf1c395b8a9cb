import { mkdir, readFile, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { UserError } from '../lib/errors.js';
import type { StackPaths } from './paths.js';

/** 2: each service names its runtime (a discriminated union), ports by name; 1 had `pid`/`port` and any other keys. */
export const STATE_SCHEMA_VERSION = 2;

export type RuntimeName = 'native' | 'docker';

/** What runs as service `elasticsearch` (`up --search-engine`); its data is that engine's. */
export type SearchEngineName = 'elasticsearch' | 'opensearch';

interface ServiceCommon {
  /** Address it binds. */
  host?: string;
  /** Host-side ports by PortSpec name; kept while stopped, so the next start uses them again. */
  ports: Record<string, number>;
  version?: string;
  startedAt?: string;
  /** Who started postgres for a db command (`command`: stopped when it ends) or a server (`service`). */
  owner?: 'command' | 'service';
}

/** A local process: its pid while it runs, and who that pid is (boot id + start time), so a reused pid is never signalled. */
export interface NativeServiceState extends ServiceCommon {
  runtime: 'native';
  pid?: number;
  startId?: string;
  /** False for a process that does not lead its own process group (a hand-started server). */
  group?: boolean;
}

/** A container: its id while it exists, and the image it was created from. */
export interface DockerServiceState extends ServiceCommon {
  runtime: 'docker';
  containerId?: string;
  image?: string;
  /** The engine's socket it was created on (DOCKER_HOST may differ in a later shell). */
  engine?: string;
}

/** The engine socket a stack's containers were created on, if the state records one. */
export function recordedEngine(state: StackState | undefined): string | undefined {
  return Object.values(state?.services ?? {}).find((s): s is DockerServiceState => s.runtime === 'docker' && Boolean(s.engine))?.engine;
}

/** What the state file records of one service, by the runtime that runs it. */
export type ServiceState = NativeServiceState | DockerServiceState;

export interface StackState {
  schemaVersion: number;
  stack: string;
  runtime?: RuntimeName;
  createdAt: string;
  updatedAt: string;
  services: Record<string, ServiceState>;
  /** Endpoints of the running stack as the host reaches them, by endpoint name (see lib/config.ts). */
  endpoints: Record<string, string>;
  /** Endpoints of containers as reached on the stack's network (for Connect's connectors), when it has one. */
  networkEndpoints?: Record<string, string>;
  /** Generated credentials; the file is mode 0600 for this reason. */
  secrets: Record<string, string>;
  /** One-time set-up tasks of `up` done on this stack's data, with when (see plan.ts). */
  tasks?: Record<string, string>;
  /** Who runs the Elasticsearch sink. */
  sink?: 'connect' | 'embedded';
  /** The engine service `elasticsearch` runs, recorded by the first `up` that chose one; absent: Elasticsearch. */
  searchEngine?: SearchEngineName;
}

export function emptyState(stack: string, now = new Date()): StackState {
  const at = now.toISOString();
  return { schemaVersion: STATE_SCHEMA_VERSION, stack, createdAt: at, updatedAt: at, services: {}, endpoints: {}, secrets: {} };
}

/** Reads the stack's state (a file of an older schema is migrated in memory); `undefined` when the stack has none yet. */
export async function readState(paths: StackPaths): Promise<StackState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: { schemaVersion?: unknown };
  try {
    parsed = JSON.parse(text) as { schemaVersion?: unknown };
  } catch {
    throw new UserError('STATE_CORRUPT', `The state file ${paths.stateFile} is not valid JSON.`, { hint: cleanHint(paths) });
  }
  const version = parsed?.schemaVersion;
  if (typeof version !== 'number' || version > STATE_SCHEMA_VERSION || version < 1) {
    throw new UserError('STATE_VERSION', `The state file ${paths.stateFile} has schema version ${String(version)}, which this outboxctl does not understand.`, {
      hint: `Use the outboxctl version that created stack "${paths.name}", or a newer one.`,
    });
  }
  const { parseState } = await import('./state-schema.js');
  const result = parseState(version === 1 ? migrateV1(parsed as Record<string, unknown>) : parsed);
  if (!result.ok) {
    throw new UserError('STATE_INVALID', `The state file ${paths.stateFile} does not match schema version ${STATE_SCHEMA_VERSION}: ${result.problem}.`, {
      hint: cleanHint(paths),
    });
  }
  return { ...emptyState(paths.name), ...result.state };
}

function cleanHint(paths: StackPaths): string {
  return `Run \`outboxctl --stack ${paths.name} down\` to move the file aside and stop the stack's services while keeping its data (\`up\` then starts it afresh), or \`down --volumes\` to delete ${paths.dir}.`;
}

/** True for the errors of a state file that exists but cannot be used (not for one of a newer outboxctl). */
export function isUnreadableState(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'STATE_CORRUPT' || code === 'STATE_INVALID';
}

/** What a new state file can keep of an unreadable one: the stack's runtime and its generated secrets. */
export interface SalvagedState {
  runtime?: RuntimeName;
  secrets: Record<string, string>;
}

/**
 * The runtime and secrets of a state file's text, read as JSON when it parses, else from the first
 * `"runtime": "…"` and the flat `"secrets": {…}` object (a file cut short keeps what precedes the cut).
 */
export function salvageState(text: string): SalvagedState {
  let runtime: unknown;
  let secrets: unknown;
  try {
    const doc = JSON.parse(text) as { runtime?: unknown; secrets?: unknown } | null;
    runtime = doc?.runtime;
    secrets = doc?.secrets;
  } catch {
    runtime = /"runtime"\s*:\s*"([a-z]+)"/.exec(text)?.[1];
    try {
      secrets = JSON.parse(/"secrets"\s*:\s*(\{[^{}]*\})/.exec(text)?.[1] ?? '{}');
    } catch {
      secrets = {};
    }
  }
  const kept: SalvagedState = { secrets: {} };
  if (runtime === 'native' || runtime === 'docker') kept.runtime = runtime;
  if (typeof secrets === 'object' && secrets !== null) {
    for (const [name, value] of Object.entries(secrets)) if (typeof value === 'string') kept.secrets[name] = value;
  }
  return kept;
}

/**
 * Moves an unreadable state file aside, to `state.json.corrupt-<ISO time>` (`:` as `-`), and returns
 * where it went with what a new state can keep of it.
 */
export async function setAsideState(paths: StackPaths, now = new Date()): Promise<{ keptAs: string; salvaged: SalvagedState }> {
  const text = await readFile(paths.stateFile, 'utf8');
  const keptAs = `${paths.stateFile}.corrupt-${now.toISOString().replace(/:/g, '-')}`;
  await rename(paths.stateFile, keptAs);
  return { keptAs, salvaged: salvageState(text) };
}

/**
 * Schema 1 → 2: every service was a native process (`pid`, `startId`, `group`) with its main
 * `port` beside `ports`; keys no schema knew are dropped.
 */
export function migrateV1(v1: Record<string, unknown>): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries((v1.services ?? {}) as Record<string, Record<string, unknown>>)) {
    if (typeof raw !== 'object' || raw === null) {
      services[name] = raw;
      continue;
    }
    const ports = (raw.ports as Record<string, number> | undefined) ?? (raw.port !== undefined ? { main: raw.port } : {});
    const keep = ['pid', 'startId', 'group', 'host', 'version', 'startedAt', 'owner'].filter((k) => raw[k] !== undefined);
    services[name] = { runtime: 'native', ports, ...Object.fromEntries(keep.map((k) => [k, raw[k]])) };
  }
  return { ...v1, schemaVersion: STATE_SCHEMA_VERSION, runtime: v1.runtime ?? (Object.keys(services).length ? 'native' : undefined), services };
}

/** Atomic write: a 0600 temp file in the same directory, fsync, then rename over the old file. */
export async function writeState(paths: StackPaths, state: StackState, now = new Date()): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const next: StackState = { ...state, schemaVersion: STATE_SCHEMA_VERSION, updatedAt: now.toISOString() };
  await writeFileAtomic(paths.stateFile, `${JSON.stringify(next, null, 2)}\n`, 0o600);
}

/** The last read-modify-write of each state file in this process (see updateState). */
const updating = new Map<string, Promise<unknown>>();

/**
 * Read-modify-write under the stack lock: `change` edits the state it is given. Changes within one
 * process run one after the other (`up` starts several services at once): none overwrites another's.
 */
export async function updateState(paths: StackPaths, change: (state: StackState) => unknown): Promise<StackState> {
  const previous = updating.get(paths.stateFile) ?? Promise.resolve();
  const next = previous.then(async () => {
    const state = (await readState(paths)) ?? emptyState(paths.name);
    change(state);
    await writeState(paths, state);
    return state;
  });
  const settled = next.catch(() => undefined);
  updating.set(paths.stateFile, settled);
  void settled.then(() => {
    if (updating.get(paths.stateFile) === settled) updating.delete(paths.stateFile);
  });
  return next;
}

export interface LockOptions {
  /** How long to wait for another command holding the lock; Infinity: as long as its holder lives. */
  waitMs?: number;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: () => void;
}

/**
 * Runs `fn` holding the stack's lock, so commands that change a stack never interleave.
 * The lock is a directory (`state.json.lock`) refreshed while held; a crashed holder's lock goes stale.
 */
export async function withStackLock<T>(paths: StackPaths, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  const lockOptions = { lockfilePath: `${paths.stateFile}.lock`, stale: 15_000, update: 5_000, retries: 0 };
  let release: (() => Promise<void>) | undefined;
  let waiting = false;
  let vanished = 0;
  while (!release) {
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    try {
      release = await lockfile.lock(paths.dir, lockOptions);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOENT: `down --volumes` removed the empty directory meanwhile; it is made again.
      if (code === 'ENOENT' && ++vanished < 5) continue;
      if (code !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) {
        throw new UserError('STACK_LOCKED', `Stack "${paths.name}" is locked by another outboxctl command.`, {
          hint: 'Wait for it to finish and try again.',
        });
      }
      if (!waiting) options.onWait?.();
      waiting = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
