import type { Address, Component, ServiceContext, ServiceName } from '../components/types.js';
import type { StackPaths } from '../paths.js';
import type { RuntimeName, ServiceState } from '../state.js';

export type StopResult = 'stopped' | 'killed' | 'not-running' | 'stale';

/** What a status row shows of a running service: a runtime-neutral id and, for a process, its pid. */
export interface ServiceIdentity {
  /** `pid 1234` for a process; stable while the same instance runs. */
  id: string;
  pid: number | null;
}

export interface LogFollowOptions {
  signal?: AbortSignal;
  onLine(line: string): void;
}

/**
 * How services run: the orchestration (up, down, status, logs, restart, stop, stacks, smoke, db)
 * talks only to this. A runtime creates what runs a component, tells whether it still runs, stops
 * it, reads its logs and usage, and finds what belongs to a stack without its state file. Readiness
 * is the component's data, evaluated from the host by src/stack/readiness.ts for every runtime.
 */
export interface Runtime {
  readonly name: RuntimeName;
  /** What this machine lacks to run these components, as one error before anything starts. */
  preflight(components: Component[], env: NodeJS.ProcessEnv): Promise<void>;
  /** Fetches what the components need before any of them starts; returns artifact directories by set id. */
  provision(components: Component[], env: NodeJS.ProcessEnv, onProgress: (message: string) => void): Promise<Record<string, string>>;
  /** Creates and starts what runs the component; resolves once it exists (not yet ready) with what to record. */
  create(component: Component, ctx: ServiceContext): Promise<ServiceState>;
  /**
   * After the readiness probe passed: checks that what answered is this service (not another
   * process that took the port meanwhile); throws to have the start undone.
   */
  verify(component: Component, ctx: ServiceContext, service: ServiceState): Promise<void>;
  /** Where its peers reach it (native: the host's address; containers: the stack network's). */
  peerAddress(component: Component, ctx: ServiceContext): Address;
  /** Stops it gracefully, then forcibly; `component` undefined for something found by `find`. */
  stop(component: Component | undefined, service: ServiceState): Promise<StopResult>;
  /** True while the recorded instance (never a reused pid or another container) runs. */
  isAlive(service: ServiceState | undefined): Promise<boolean>;
  identify(service: ServiceState): ServiceIdentity | undefined;
  /** Resident memory in bytes, or null when unknown. */
  usage(service: ServiceState): Promise<number | null>;
  /** The last `tail` lines of a service's log; undefined when it never wrote one. */
  logs(paths: StackPaths, name: ServiceName, tail?: number): Promise<string[] | undefined>;
  /** Calls `onLine` for each line the service writes from now on, until the signal aborts. */
  followLogs(paths: StackPaths, name: ServiceName, options: LogFollowOptions): Promise<void>;
  /** What runs for a stack found without its state (by pid identity or command line, by label). */
  find(paths: StackPaths): Promise<ServiceState[]>;
}
