import { Document, isMap, isScalar, type Pair, type YAMLMap } from 'yaml';
import { containerPort, peerPort, portsBy } from '../stack/components/container-ports.js';
import { availableServices, component } from '../stack/components/index.js';
import type { Component, ContainerSection, Endpoints, SecretFile, ServiceName } from '../stack/components/types.js';

/**
 * The stack name the file's containers are described with (labels, the search engine's cluster
 * name). The file is one for everybody, checked in: Compose's project name (`-p`, the directory)
 * tells several copies apart, not outboxctl's `--stack`.
 */
export const COMPOSE_STACK = 'compose';
/** The one network of the file; on it each container answers to its service name, as in the Docker runtime. */
export const COMPOSE_NETWORK = 'outboxctl';
/** Default of every secret's variable: the file is for local use, its ports bound to 127.0.0.1. */
export const SECRET_DEFAULT = 'outbox';
const CLIENT_HOST = '127.0.0.1';

export interface ComposeOptions {
  /** Reserved: the file is stack-independent (see COMPOSE_STACK). */
  stack?: string;
  env?: NodeJS.ProcessEnv;
}

/** `postgresPassword` → `POSTGRES_PASSWORD`: the Compose variable a stack secret becomes. */
export function secretVariable(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toUpperCase();
}

/** The build contexts the file names (`build: ./DIR`), relative to the file. */
export function composeBuildContexts(): string[] {
  return availableServices().flatMap((s) => component(s).container?.build ?? []);
}

/** What one container section renders to, before `$` escaping and placeholders. */
interface Rendered {
  name: ServiceName;
  component: Component;
  section: ContainerSection;
  command?: string[];
  environment: Record<string, string>;
  /** Files with secrets the container reads (Compose `secrets:`, from ./secrets/ beside the file). */
  secretFiles: SecretFile[];
  /** Dependencies in the file (all of them have container sections). */
  dependsOn: ServiceName[];
}

/**
 * Renders every container section as the Docker runtime would, with secrets replaced by `token(name)`.
 * Endpoints are those of the services before it in start order, as reached on the network (the
 * runtime hands each container the peers started so far).
 */
async function renderSections(token: (secret: string) => string, env: NodeJS.ProcessEnv): Promise<Rendered[]> {
  const secret = async (name: string) => token(name);
  const services = availableServices().filter((s) => component(s).container);
  const peers: Endpoints = {};
  const rendered: Rendered[] = [];
  for (const name of services) {
    const c = component(name);
    const section = c.container!;
    for (const dep of c.dependsOn) {
      if (!services.includes(dep)) throw new Error(`${name} depends on ${dep}, which has no container section: Compose cannot start it`);
    }
    const ctx = {
      stack: COMPOSE_STACK,
      ports: portsBy(c, containerPort),
      hostPorts: Object.fromEntries(c.ports.map((p) => [p.name, p.preferred])),
      clientHost: CLIENT_HOST,
      endpoints: { ...peers },
      secret,
      env,
    };
    const environment = { ...c.env?.(ctx.endpoints), ...(await section.env?.(ctx)) };
    const secretFiles = (await section.secretFiles?.(ctx)) ?? [];
    rendered.push({ name, component: c, section, command: section.command?.(ctx), environment, secretFiles, dependsOn: c.dependsOn });
    const at = { host: name, ports: portsBy(c, peerPort), secret };
    Object.assign(peers, await c.endpoints(at));
  }
  return rendered;
}

/** Tokens made only of characters that URL encoding and hashing leave recognisable. */
const tokenFor = (salt: string) => (secret: string) => `__OUTBOXCTL_SECRET_${salt}_${secretVariable(secret)}__`;
const TOKEN = /__OUTBOXCTL_SECRET_[AB]_([A-Z0-9_]+?)__/g;

/** `$` is Compose's interpolation: literal ones are doubled, secrets become `${VAR:-default}`. */
function interpolate(value: string, used: Set<string>): string {
  return value.replace(/\$/g, '$$$$').replace(TOKEN, (_, variable: string) => {
    used.add(variable);
    return `\${${variable}:-${SECRET_DEFAULT}}`;
  });
}

/** Where Compose takes a secret file from: `./secrets/NAME` beside the Compose file (never written by outboxctl). */
const secretSource = (name: string) => `./secrets/${name}`;
/** Compose mounts a secret at /run/secrets/NAME unless told otherwise. */
const secretMount = (f: SecretFile) => (f.target === `/run/secrets/${f.name}` ? f.name : { source: f.name, target: f.target });

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
const volumeOf = (name: string) => `${name}-data`;
const labels = (service?: string) => ({ 'outboxctl.stack': COMPOSE_STACK, ...(service ? { 'outboxctl.service': service } : {}) });

/**
 * The Compose file of the stack's container sections (postgres, kafka, elasticsearch, connect, in
 * start order), from the same descriptions `up --runtime docker` runs: ports published on
 * 127.0.0.1 at their defaults, named volumes, stop signals and grace periods, one network.
 * Deterministic; ends with a newline.
 */
export async function composeDocument(options: ComposeOptions = {}): Promise<string> {
  const env = options.env ?? {};
  const sections = await renderSections(tokenFor('A'), env);
  // A second rendering with other tokens shows which values are derived from a secret without containing it (hashed).
  const again = await renderSections(tokenFor('B'), env);
  const used = new Set<string>();
  const derived: string[] = [];
  const services: Record<string, unknown> = {};
  const volumes: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  sections.forEach((s, i) => {
    const other = again[i]!;
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(s.environment)) {
      const plain = (v: string) => v.replace(TOKEN, '$1');
      if (plain(value) !== plain(other.environment[key] ?? '')) derived.push(`${s.name} ${key}`);
      environment[key] = interpolate(value, used);
    }
    const { section } = s;
    services[s.name] = {
      image: section.image,
      ...(section.build ? { build: `./${section.build}` } : {}),
      ...(s.command ? { command: s.command.map((a) => interpolate(a, used)) } : {}),
      environment,
      labels: labels(s.name),
      ports: s.component.ports.map((p) => `${CLIENT_HOST}:${p.preferred}:${containerPort(s.component, p.name)}`),
      ...(section.volume ? { volumes: [`${volumeOf(s.name)}:${section.volume}`] } : {}),
      ...(s.secretFiles.length ? { secrets: s.secretFiles.map(secretMount) } : {}),
      networks: [COMPOSE_NETWORK],
      ...(s.dependsOn.length ? { depends_on: s.dependsOn } : {}),
      ...(section.stopSignal ? { stop_signal: section.stopSignal } : {}),
      stop_grace_period: seconds(section.stopGraceMs),
    };
    if (section.volume) volumes[volumeOf(s.name)] = { labels: labels(s.name) };
    for (const f of s.secretFiles) secrets[f.name] = { file: secretSource(f.name) };
  });
  const doc = new Document(
    { services, volumes, ...(Object.keys(secrets).length ? { secrets } : {}), networks: { [COMPOSE_NETWORK]: { labels: labels() } } },
    { version: '1.1' },
  );
  doc.commentBefore = header(
    sections.map((s) => s.name),
    [...used].sort(),
    derived,
    sections.flatMap((s) => s.secretFiles.map((f) => ({ service: s.name, file: f }))),
  );
  // A blank line before each service and each top-level section, for the eye.
  const root = doc.contents as YAMLMap;
  for (const pair of root.items as Pair[]) {
    if (isScalar(pair.key) && pair.key.value !== 'services') pair.key.spaceBefore = true;
    if (isScalar(pair.key) && pair.key.value === 'services' && isMap(pair.value)) {
      (pair.value.items as Pair[]).forEach((service, i) => {
        if (i > 0 && isScalar(service.key)) service.key.spaceBefore = true;
      });
    }
  }
  // YAML 1.1 quoting: docker-compose 1.x reads the file with PyYAML (`on`, `22:22` would not stay strings).
  return doc.toString({ lineWidth: 0 });
}

/** A secret file's lines as the header shows them: a secret is `<VARIABLE>`, comments left out. */
const secretLines = (content: string) =>
  content
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(TOKEN, (_, variable: string) => `<${variable}>`));

function header(services: string[], variables: string[], derived: string[], secretFiles: { service: string; file: SecretFile }[]): string {
  const lines = [
    " outboxctl's stack infrastructure for plain Compose: `docker compose up -d` (or docker-compose 1.29).",
    ' Generated by `outboxctl compose export --output compose/docker-compose.yml` from the component',
    ' descriptions `outboxctl up --runtime docker` runs; do not edit it by hand: a test compares the two.',
    '',
    ` Services: ${services.join(', ')}.`,
    " outboxctl's own servers (tracking, auditing, the embedded sink) are host processes in its Docker",
    ' runtime too, so they are not here: run them with `outboxctl serve tracking|auditing|sink` and',
    ' endpoint flags (--database-url, --bootstrap-server, --elasticsearch-url), or let',
    ' `outboxctl up --runtime docker` run everything instead of this file (`--services tracking,auditing`',
    ' starts those two and what they need).',
    '',
    ` Ports are published on ${CLIENT_HOST} only, at the seed's defaults. connect is built from ./connect`,
    " (Confluent's Connect image with Debezium and the Elasticsearch sink): keep this file beside it.",
    '',
    ' Variables (Compose interpolation; the default applies when one is unset or empty):',
    ...(variables.length ? variables.map((v) => `   ${v}  default "${SECRET_DEFAULT}"; outboxctl's own runtime generates one per stack`) : ['   none']),
    ...(derived.length
      ? [
          '',
          " Fixed in this file, derived from a per-stack secret in outboxctl's own runtime (a volume keeps",
          ' the value it was first started with):',
          ...derived.map((d) => `   ${d}`),
        ]
      : []),
    ...(secretFiles.length
      ? [
          '',
          ' Secret files (Compose `secrets:`), to create beside this file before `up`; outboxctl writes them',
          " into the stack's 0700 secrets directory in its own runtime:",
          ...secretFiles.map(
            ({ service, file }) => `   ${secretSource(file.name)}  ${service} reads it at ${file.target}: ${secretLines(file.content).join(' ')}`,
          ),
        ]
      : []),
    '',
    ' outboxctl checks this file with `docker-compose config`; its tests never pulled or ran the upstream',
    ' images it names (see compose/README.md for what ran where).',
  ];
  return lines.join('\n');
}
