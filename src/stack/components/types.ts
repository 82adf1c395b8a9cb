import type { EndpointName } from '../../lib/config.js';
import type { ArtifactSet } from '../artifacts.js';
import type { StackPaths } from '../paths.js';
import type { StackState } from '../state.js';

/** Service names are fixed; the order is the start order (`down` reverses it). */
export const SERVICE_ORDER = ['postgres', 'kafka', 'elasticsearch', 'connect', 'sink', 'tracking', 'auditing'] as const;
export type ServiceName = (typeof SERVICE_ORDER)[number];

export type Endpoints = Partial<Record<EndpointName, string>>;

export interface PortSpec {
  name: string;
  /** Port on the host (the seed's default); another is chosen when it is taken. */
  preferred: number;
  /** Port inside the service's own network (a container's); `preferred` when omitted. */
  container?: number;
  /**
   * Port its peers use on the stack's network when it differs from the published one (Kafka's
   * internal listener); `container` when omitted. Never published on the host.
   */
  peer?: number;
}

/** Where a service is reached from one side (the host, or its peers): an address and ports by PortSpec name. */
export interface Address {
  host: string;
  ports: Record<string, number>;
}

/** What a component's endpoints and probes are computed from. */
export interface EndpointContext extends Address {
  /** Generated per stack and kept in the state file (mode 0600). */
  secret(name: string): Promise<string>;
}

/** What a readiness check sees: the service's address from the host, and its recent log lines. */
export interface ProbeContext extends EndpointContext {
  /** The last lines the service wrote (through its runtime). */
  logs(): Promise<string[]>;
}

/**
 * Readiness as data, evaluated from the host by src/stack/readiness.ts for any runtime: a TCP
 * port that accepts, an HTTP answer (status and, optionally, a check of its JSON body), a line
 * in the log, or a query through one of the clients.
 */
export type ReadinessCheck =
  | { kind: 'port'; port?: string }
  | { kind: 'http'; path: string; port?: string; statuses?: number[]; expect?: (body: unknown) => string | undefined }
  | { kind: 'log'; pattern: RegExp }
  | { kind: 'query'; run(ctx: ProbeContext): Promise<void> };

export interface Readiness {
  /** Human description, for messages ("a query (SELECT 1)"). */
  describe: string;
  check: ReadinessCheck;
}

/** Everything a component's native section needs for one start. */
export interface ServiceContext {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  /** Address to bind. */
  host: string;
  /** Address clients use (127.0.0.1 when binding 0.0.0.0). */
  clientHost: string;
  /** This service's ports, by PortSpec name. */
  ports: Record<string, number>;
  /** Endpoints of the services it depends on, as this service reaches them. */
  endpoints: Endpoints;
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

/** How the native runtime runs a component: a local process from Maven-resolved jars or npm binaries. */
export interface NativeSection {
  /** Maven artifact sets to resolve before the start. */
  artifactSets?: ArtifactSet[];
  /** Needs `java` on PATH. */
  jvm?: boolean;
  /** Idempotent set-up before each start: config files, storage formatting. */
  prepare?(ctx: ServiceContext): Promise<void>;
  launch(ctx: ServiceContext): Promise<Launch>;
  stopSignal: NodeJS.Signals;
  stopGraceMs: number;
}

/**
 * What a container section is described in: the service's own ports as seen inside its container,
 * its peers' endpoints on the stack's network, and the stack's secrets. `compose export` describes
 * the same sections with `${VAR}` placeholders for the secrets and the stack name.
 */
export interface ContainerContext {
  /** The stack's name (containers are `<stack>-<service>`). */
  stack: string;
  /** Its ports inside the container, by PortSpec name (`container`, else `preferred`). */
  ports: Record<string, number>;
  /** Its ports as the host reaches them (published), by PortSpec name. */
  hostPorts: Record<string, number>;
  /** Address the host reaches published ports on (advertised listeners). */
  clientHost: string;
  /** Endpoints of the services it depends on, as reached on the stack's network. */
  endpoints: Endpoints;
  secret(name: string): Promise<string>;
  env: NodeJS.ProcessEnv;
}

/** A file with a secret for a container: its name in the stack's secrets directory, where the container reads it, what it holds. */
export interface SecretFile {
  name: string;
  /** Absolute path inside the container. */
  target: string;
  content: string;
}

/** How the Docker runtime runs a component: a container on the stack's network, its ports published on the host. */
export interface ContainerSection {
  /** The default image, pinned by tag (never `latest`); `--image SERVICE=REF` and `OUTBOXCTL_IMAGE_<SERVICE>` override it. */
  image: string;
  /** A directory under compose/ with a Dockerfile that builds `image` when the engine lacks it (it is not published anywhere). */
  build?: string;
  /** Arguments after the image's entrypoint (its default command when omitted). */
  command?(ctx: ContainerContext): string[];
  /** Environment of the container besides the component's `env` from its peers. */
  env?(ctx: ContainerContext): Promise<Record<string, string>>;
  /** Where its named volume (data kept across containers, removed by `down --volumes`) is mounted. */
  volume?: string;
  /**
   * Secret files it reads (Kafka's config providers), kept out of its environment: the runtime writes
   * each into the stack's 0700 secrets directory and mounts it read-only at `target`; Compose gets
   * them as `secrets:` from files beside the Compose file.
   */
  secretFiles?(ctx: ContainerContext): Promise<SecretFile[]>;
  /** The signal the engine stops it with (the image's STOPSIGNAL when omitted). */
  stopSignal?: NodeJS.Signals;
  /** Time the engine gives it between the stop signal and SIGKILL. */
  stopGraceMs: number;
  /** Directories put first on PATH for `outboxctl exec` in the container (Kafka's scripts). */
  execPath?: string[];
}

/**
 * What a component is, whatever runs it: ports (host and container side), dependencies, the
 * environment it gets from its peers, readiness as data, the endpoints it offers; then one small
 * section per runtime that can run it.
 */
export interface Component {
  name: ServiceName;
  summary: string;
  version: string;
  dependsOn: ServiceName[];
  ports: PortSpec[];
  readiness: Readiness;
  /** Settings from its peers' endpoints (database URL, bootstrap servers), as environment variables. */
  env?(peers: Endpoints): Record<string, string>;
  /** One-time work after the first readiness of each start (databases); may report the version that really answers. */
  afterReady?(at: EndpointContext): Promise<{ version?: string } | undefined>;
  /**
   * Environment for `outboxctl exec SERVICE -- CMD` (psql's PG* settings, Kafka's bootstrap servers),
   * given the service as seen where the command runs (the host natively, inside its container for Docker).
   */
  execEnv?(at: EndpointContext): Promise<Record<string, string>>;
  /** The endpoint names `endpoints` fills (forgotten when the service stops). */
  endpointNames: EndpointName[];
  /** Its endpoints as reached at `at`: the host's view, or its peers'. */
  endpoints(at: EndpointContext): Promise<Endpoints>;
  native: NativeSection;
  /** Present when it can run as a container; without it, the Docker runtime runs it as a host process. */
  container?: ContainerSection;
}
