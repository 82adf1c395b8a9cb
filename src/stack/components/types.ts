import type { EndpointName } from '../../lib/config.js';
import type { ArtifactSet } from '../artifacts.js';
import type { StackPaths } from '../paths.js';
import type { StackState } from '../state.js';

/** Service names are fixed; the order is the start order (`down` reverses it). */
export const SERVICE_ORDER = ['postgres', 'kafka', 'elasticsearch', 'connect', 'sink', 'tracking', 'auditing'] as const;
export type ServiceName = (typeof SERVICE_ORDER)[number];

export interface PortSpec {
  name: string;
  preferred: number;
}

/** Everything a component needs to describe its process for one start. */
export interface ServiceContext {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  /** Address to bind. */
  host: string;
  /** Address clients use (127.0.0.1 when binding 0.0.0.0). */
  clientHost: string;
  /** This service's ports, by PortSpec name. */
  ports: Record<string, number>;
  /** Endpoints of the services it depends on (already running). */
  endpoints: Partial<Record<EndpointName, string>>;
  /** Resolved artifact directories, by artifact set id. */
  artifacts: Record<string, string>;
  /** `<stack>/data/<service>`. */
  dataDir: string;
  /** `<stack>/config/<service>`. */
  configDir: string;
  /** Generated per stack and kept in the state file (mode 0600). */
  secret(name: string): Promise<string>;
  state(): Promise<StackState>;
  onProgress(message: string): void;
}

export interface Launch {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * What a component is, for every runtime: ports, artifacts, how it starts as a process,
 * how readiness is probed from the host, and what endpoints it offers.
 */
export interface Component {
  name: ServiceName;
  summary: string;
  version: string;
  dependsOn: ServiceName[];
  ports: PortSpec[];
  /** Maven artifact sets the native runtime needs. */
  artifactSets?: ArtifactSet[];
  /** Needs `java` on PATH (native runtime). */
  jvm?: boolean;
  /** Human description of the readiness probe, for messages. */
  probe: string;
  /** Idempotent set-up before each start: config files, storage formatting. */
  prepare?(ctx: ServiceContext): Promise<void>;
  launch(ctx: ServiceContext): Promise<Launch>;
  /** Resolves once ready; rejects while not. */
  ready(ctx: ServiceContext, timeoutMs: number): Promise<void>;
  /** One-time work after the first readiness of each start (roles, databases). */
  afterReady?(ctx: ServiceContext): Promise<void>;
  endpoints(ctx: ServiceContext): Promise<Partial<Record<EndpointName, string>>>;
  /** The endpoint names `endpoints` fills (forgotten when the service stops). */
  endpointNames: EndpointName[];
  stopSignal: NodeJS.Signals;
  stopGraceMs: number;
}
