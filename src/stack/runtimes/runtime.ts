import type { Address, Component, ServiceContext, ServiceName } from '../components/types.js';
import type { StackPaths } from '../paths.js';
import type { RuntimeName, ServiceState } from '../state.js';

export type StopResult = 'stopped' | 'killed' | 'not-running' | 'stale';

/** Who a running instance is, in runtime-neutral terms (and, for a process, its pid). */
export interface ServiceIdentity {
  /** For people: `pid 1234`. */
  id: string;
  /** Unique to this instance, never shared with a later one (a reused pid, a recreated container). */
  key: string;
  pid: number | null;
}

export interface LogReadOptions {
  /** The last N lines only. */
  tail?: number;
  /** Only what the current (or last) start wrote, not the runs before it. */
  sinceStart?: boolean;
}

export interface LogFollowOptions {
  /** First the last N lines written so far, then what comes, with nothing lost in between. */
  tail?: number;
  signal?: AbortSignal;
  onLine(line: string): void;
}

export interface ProvisionContext {
  env: NodeJS.ProcessEnv;
  paths: StackPaths;
  onProgress(message: string): void;
}

/** `outboxctl exec SERVICE -- CMD…`: a command run in a service's environment, like `docker compose exec`. */
export interface ExecRequest {
  paths: StackPaths;
  command: string[];
  /** From the component's `execEnv`, for where the command runs. */
  env: Record<string, string>;
  /** The caller's environment (natively the base of the command's). */
  callerEnv: NodeJS.ProcessEnv;
  /** Attach a terminal (stdin and stdout are TTYs). */
  tty: boolean;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
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
  provision(components: Component[], ctx: ProvisionContext): Promise<Record<string, string>>;
  /** Creates and starts what runs the component; resolves once it exists (not yet ready) with what to record. */
  create(component: Component, ctx: ServiceContext): Promise<ServiceState>;
  /**
   * After the readiness probe passed: checks that what answered is this service (not another
   * process that took the port meanwhile); throws to have the start undone.
   */
  verify(component: Component, ctx: ServiceContext, service: ServiceState): Promise<void>;
  /** Where its peers reach it, given where the host does (native: the same; containers: the stack network's). */
  peerAddress(component: Component, host: Address): Address;
  /** Stops it gracefully, then forcibly; `component` undefined for something found by `find`. */
  stop(component: Component | undefined, service: ServiceState): Promise<StopResult>;
  /** True while the recorded instance (never a reused pid or another container) runs. */
  isAlive(service: ServiceState | undefined): Promise<boolean>;
  identify(service: ServiceState): ServiceIdentity | undefined;
  /** Resident memory in bytes, or null when unknown. */
  usage(service: ServiceState): Promise<number | null>;
  /** Lines of a service's log; undefined when it never wrote one. */
  logs(paths: StackPaths, name: ServiceName, options?: LogReadOptions): Promise<string[] | undefined>;
  /** Calls `onLine` for the tail, then for each line the service writes, until the signal aborts. */
  followLogs(paths: StackPaths, name: ServiceName, options: LogFollowOptions): Promise<void>;
  /** Runs a command in the service's environment; resolves with its exit code. */
  exec(component: Component, service: ServiceState, request: ExecRequest): Promise<number>;
  /** After its services stopped (`down`): what the stack's services shared (a network) and, with `volumes`, their data. */
  teardown(paths: StackPaths, options: { volumes: boolean }): Promise<void>;
  /**
   * The end of one `up`: after a failure (its services already stopped) removes what this run
   * created for them that they shared (a network, new volumes); after success keeps it.
   */
  finishRun(failed: boolean): Promise<void>;
  /** What runs for a stack found without its state (by pid identity or command line, by label). */
  find(paths: StackPaths): Promise<ServiceState[]>;
}
