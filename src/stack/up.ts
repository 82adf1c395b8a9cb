import type { EndpointName } from '../lib/config.js';
import { UsageError, UserError } from '../lib/errors.js';
import { interruptible } from '../lib/interrupt.js';
import { checkSearchEngineRuntime, resolveSearchEngine, searchEngineComponent } from './components/elasticsearch.js';
import { enableStackToken, TOKEN_SERVICES } from './components/embedded.js';
import { availableServices, component, withDependencies } from './components/index.js';
import type { Component, Endpoints, ServiceName } from './components/types.js';
import { dockerEngineAnswers } from './engine.js';
import { stopServices } from './lifecycle.js';
import type { StackPaths } from './paths.js';
import { planUp, type SinkMode, type Step, stepDependencies, type TaskName } from './plan.js';
import { choosePort, isPortFree, portHolder } from './ports.js';
import { loadRuntime, type Runtime, runtimeOf } from './runtimes/index.js';
import { runGraph } from './schedule.js';
import {
  forgetService,
  hasInstance,
  instanceKey,
  isServiceAlive,
  probeService,
  recordMissingEndpoints,
  runningPeerEndpoints,
  serviceContext,
  stackSecret,
  startService,
  stopService,
} from './service.js';
import {
  emptyState,
  type RuntimeName,
  readState,
  recordedEngine,
  type SearchEngineName,
  type ServiceState,
  type StackState,
  updateState,
  withStackLock,
} from './state.js';
import { runTask } from './tasks.js';

const RUNTIMES = ['auto', 'native', 'docker'] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];

/** `--runtime` as given (default auto), or a usage error naming the choices. */
export function parseRuntimeChoice(flag: unknown): RuntimeChoice {
  const runtime = String(flag ?? 'auto');
  if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new UsageError(`--runtime "${runtime}" is not one of ${RUNTIMES.join(', ')}.`);
  return runtime as RuntimeChoice;
}

export interface UpEvents {
  onPlan?(steps: Step[]): void;
  onStepStart?(step: Step): void;
  onStepProgress?(step: Step | undefined, message: string): void;
  onStepDone?(step: Step, seconds: number): void;
  onStepFailed?(step: Step, error: unknown): void;
  onNote?(message: string): void;
  /** The steps after a decision made while running (which sink Connect's plugins allow). */
  onReplan?(steps: Step[]): void;
}

export interface UpOptions {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  services?: ServiceName[];
  runtime: RuntimeChoice;
  waitTimeoutMs: number;
  strictPorts: boolean;
  /** Bind address; default: what each service used before, else 127.0.0.1. */
  host?: string;
  /** Stop these first (under the same lock), then start them again. */
  restart?: ServiceName[];
  /** `--token`: tracking and auditing demand the stack's bearer token (made once, kept until `down --volumes`). */
  token?: boolean;
  dryRun?: boolean;
  events?: UpEvents;
  /** `auto`: Connect's plugin when the running worker has it, else the embedded sink. */
  sink?: SinkMode | 'auto';
  /** `--search-engine`: what runs as service elasticsearch; default: what the stack records, else Elasticsearch. */
  searchEngine?: SearchEngineName;
  /** Partitions of parcel.outbox when `up` creates it (1 when not given); an existing topic keeps its own. */
  partitions?: number;
  /** Where a project's ./kafka-connectors/ is looked for. */
  cwd?: string;
  /** Aborts like Ctrl-C does: nothing more starts, and what this run started is stopped. */
  signal?: AbortSignal;
}

export interface UpResult {
  stack: string;
  runtime: RuntimeName;
  steps: Step[];
  sink: SinkMode;
  /** The engine service elasticsearch runs (recorded in the stack's state). */
  searchEngine: SearchEngineName;
  alreadyReady: boolean;
  /** What this run started, with the runtime-neutral id of each instance (`pid 1234`). */
  started: { service: ServiceName; seconds: number; id: string; key: string; pid: number | null }[];
  replacedPorts: { service: ServiceName; port: string; preferred: number; used: number }[];
  endpoints: Partial<Record<EndpointName, string>>;
}

/**
 * An existing stack keeps the runtime it was created with (nobody's running stack changes runtime
 * under them); for a new one `auto` is docker when an engine answers on DOCKER_HOST or
 * /var/run/docker.sock, else native.
 */
export async function resolveRuntime(choice: RuntimeChoice, env: NodeJS.ProcessEnv, stack: string, recorded?: RuntimeName): Promise<RuntimeName> {
  if (recorded) {
    if (choice !== 'auto' && choice !== recorded) {
      throw new UserError('RUNTIME_MISMATCH', `Stack "${stack}" was created with the ${recorded} runtime, so --runtime ${choice} cannot start it.`, {
        hint: `Drop --runtime (it keeps ${recorded}), or remove the stack first (\`outboxctl down --volumes --stack ${stack}\`), or use another --stack.`,
      });
    }
    return recorded;
  }
  if (choice !== 'auto') return choice;
  return (await dockerEngineAnswers(env)) ? 'docker' : 'native';
}

/**
 * `--image SERVICE=REF|DIR` (repeatable) as OUTBOXCTL_IMAGE_<SERVICE> over the environment's, for
 * the services the Docker runtime runs as containers.
 */
export function withImageOverrides(env: NodeJS.ProcessEnv, flags: unknown): NodeJS.ProcessEnv {
  const list = Array.isArray(flags) ? (flags as string[]) : flags ? [String(flags)] : [];
  const images = availableServices().filter((s) => component(s).container);
  const out = { ...env };
  for (const item of list) {
    const at = item.indexOf('=');
    const service = at > 0 ? item.slice(0, at) : '';
    const ref = item.slice(at + 1).trim();
    if (!(images as string[]).includes(service) || !ref) {
      throw new UsageError(`--image "${item}" is not SERVICE=IMAGE with SERVICE one of ${images.join(', ')}.`, {
        hint: 'For example --image postgres=postgres:16.9, or --image connect=./my-connect (a directory with a Dockerfile).',
      });
    }
    out[`OUTBOXCTL_IMAGE_${service.toUpperCase()}`] = ref;
  }
  return out;
}

/** Which runtime runs a component in a stack of `stackRuntime`: outboxctl's own services are host processes in both. */
export const componentRuntime = (stackRuntime: RuntimeName, c: Component): RuntimeName => (stackRuntime === 'docker' && c.container ? 'docker' : 'native');

/** Ports for every service to start, chosen before anything starts. */
async function allocatePorts(
  toStart: Component[],
  state: StackState,
  options: UpOptions,
  result: UpResult,
  hostFor: (s: ServiceName) => string,
): Promise<Record<string, Record<string, number>>> {
  const taken = new Set<number>();
  const conflicts: string[] = [];
  const ports: Record<string, Record<string, number>> = {};
  for (const c of toStart) {
    ports[c.name] = {};
    const recorded = state.services[c.name]?.ports ?? {};
    for (const spec of c.ports) {
      const preferred = recorded[spec.name] ?? spec.preferred;
      const what = `${c.name}${spec.name === 'main' ? '' : ` ${spec.name}`}`;
      if (!taken.has(preferred) && (await isPortFree(preferred, hostFor(c.name)))) {
        ports[c.name]![spec.name] = preferred;
      } else if (options.strictPorts) {
        const holder = taken.has(preferred) ? 'another service of this stack' : await portHolder(preferred);
        conflicts.push(`${preferred} (${what})${holder ? ` by ${holder}` : ''}`);
        continue;
      } else {
        let chosen = (await choosePort([], hostFor(c.name))).port;
        while (taken.has(chosen)) chosen = (await choosePort([], hostFor(c.name))).port;
        ports[c.name]![spec.name] = chosen;
        result.replacedPorts.push({ service: c.name, port: spec.name, preferred, used: chosen });
        options.events?.onNote?.(`port ${preferred} (${what}) is in use; using ${chosen} instead`);
      }
      taken.add(ports[c.name]![spec.name]!);
    }
  }
  if (conflicts.length > 0) {
    throw new UserError('PORT_IN_USE', `${conflicts.length === 1 ? 'Port' : 'Ports'} already in use: ${conflicts.join(', ')}; nothing was started.`, {
      hint: 'Free the ports, or drop --strict-ports to let outboxctl pick free ones.',
    });
  }
  return ports;
}

/**
 * Brings the stack up: plans, checks tools and ports, resolves artifacts, then starts each
 * missing service behind its readiness probe. What this run started is stopped again when
 * a later step fails or the user interrupts.
 */
export async function up(input: UpOptions): Promise<UpResult> {
  let options = input;
  let { env } = options;
  const { paths, events } = options;
  const services = withDependencies(options.services ?? availableServices());
  const result: UpResult = {
    stack: paths.name,
    runtime: 'native',
    steps: [],
    sink: 'embedded',
    searchEngine: 'elasticsearch',
    alreadyReady: false,
    started: [],
    replacedPorts: [],
    endpoints: {},
  };

  // As long as the holder lives (another up may take minutes): its lock stays fresh, a killed one's goes stale.
  const lock = { waitMs: Number.POSITIVE_INFINITY, onWait: () => events?.onNote?.(`waiting for another outboxctl command on stack "${paths.name}"…`) };
  return withStackLock(paths, lock, async () => {
    // A token made now reaches servers that already run only through a restart.
    if (options.token && !options.dryRun && (await enableStackToken(paths))) {
      const servers = TOKEN_SERVICES.filter((s) => services.includes(s));
      if (servers.length) options = { ...options, restart: [...new Set([...(options.restart ?? []), ...servers])] };
    }
    if (options.restart?.length) await stopServices(paths, options.restart, (r) => events?.onStepProgress?.(undefined, `${r.service}: ${r.result}`));
    const state = (await readState(paths)) ?? emptyState(paths.name);
    // Containers are recreated on the engine the stack's others run on, whatever this shell's DOCKER_HOST says.
    const engine = recordedEngine(state);
    if (engine) {
      env = { ...env, DOCKER_HOST: `unix://${engine}` };
      options = { ...options, env };
    }
    const newStack = !state.runtime;
    // The stack keeps its engine; a new one asking for OpenSearch gets the runtime that can run it.
    result.searchEngine = resolveSearchEngine(options.searchEngine, state, paths.name);
    options = { ...options, searchEngine: result.searchEngine };
    const runtimeChoice = newStack && options.runtime === 'auto' && result.searchEngine === 'opensearch' ? 'native' : options.runtime;
    result.runtime = await resolveRuntime(runtimeChoice, env, paths.name, state.runtime);
    checkSearchEngineRuntime(result.searchEngine, result.runtime, paths.name);
    const runtimes = new Map<RuntimeName, Runtime>();
    for (const c of services.map(component)) {
      const name = componentRuntime(result.runtime, c);
      if (!runtimes.has(name)) runtimes.set(name, await loadRuntime(name));
    }
    const runtimeFor = (c: Component) => runtimes.get(componentRuntime(result.runtime, c))!;
    const hostFor = (name: ServiceName) => options.host ?? state.services[name]?.host ?? '127.0.0.1';
    const ready = new Set<ServiceName>();
    for (const name of services) if (await probeService(component(name), paths, state)) ready.add(name);
    if (!options.dryRun)
      await recordMissingEndpoints(
        paths,
        [...ready].map((name) => ({ component: component(name), service: state.services[name]! })),
        state,
      );
    let sink = await resolveSinkMode(options.sink ?? 'auto', state, ready);
    // A Connect container about to start: its default image has Confluent's sink; what an image really
    // has is known once it runs (decided again then).
    const decideSinkAtConnect = (options.sink ?? 'auto') === 'auto' && !state.sink && !ready.has('connect') && services.includes('connect');
    if (decideSinkAtConnect && componentRuntime(result.runtime, component('connect')) === 'docker' && !env.OUTBOXCTL_IMAGE_CONNECT) sink = 'connect';
    result.sink = sink;
    const doneTasks = new Set(Object.keys(state.tasks ?? {}) as TaskName[]);
    const steps = planUp({ services, ready, done: doneTasks, sink, partitions: options.partitions });
    result.steps = steps;
    events?.onPlan?.(steps);
    const toStart = steps.flatMap((s) => (s.kind === 'service' && s.action === 'start' ? [componentToStart(s.service, options)] : []));
    if (options.dryRun) return result;
    if (steps.every((s) => s.kind === 'service' && s.action === 'keep')) {
      result.alreadyReady = true;
      result.endpoints = state.endpoints;
      if (options.partitions !== undefined && doneTasks.has('topics')) await notePartitions(state.endpoints.kafka, options.partitions, events);
      return result;
    }
    await stopUnrecorded(paths, runtimes.values(), state, events);
    await forgetOrStopRecorded(paths, toStart, state, events);
    const byRuntime = [...runtimes.values()].map((runtime) => ({ runtime, components: toStart.filter((c) => runtimeFor(c) === runtime) }));
    for (const { runtime, components } of byRuntime) if (components.length) await runtime.preflight(components, env);
    const ports = await allocatePorts(toStart, state, options, result, hostFor);
    const artifacts: Record<string, string> = {};
    const onProgress = (m: string) => events?.onStepProgress?.(undefined, m);
    for (const { runtime, components } of byRuntime)
      if (components.length) Object.assign(artifacts, await runtime.provision(components, { env, paths, onProgress }));
    await updateState(paths, (st) => {
      st.runtime ??= result.runtime;
      if (input.searchEngine || services.includes('elasticsearch')) st.searchEngine ??= result.searchEngine;
    });

    // Endpoints as the host reaches them (for the tasks and the result), and as peers reach them (for
    // the services' own settings); the native runtime's peers are on the host, so both start the same.
    const endpoints: Endpoints = { ...((await readState(paths))?.endpoints ?? {}) };
    // A kept service's peers reach it where its runtime says, from its recorded address and ports.
    const peers: Endpoints = { ...endpoints };
    for (const name of ready) Object.assign(peers, await runningPeerEndpoints(paths, component(name), state.services[name]!));
    const run: StepRun = { options, runtimeFor, ports, artifacts, hostFor, endpoints, peers, started: [], result };
    await interruptible(options.signal, async (signal) => {
      try {
        let plan = steps;
        // After a Connect whose plugins decide the sink, nothing starts before that decision.
        const dependencies = { dependsOn: (s: ServiceName) => component(s).dependsOn, barrier: decideSinkAtConnect ? ('connect' as const) : undefined };
        let graph = { items: plan, deps: stepDependencies(plan, dependencies) };
        await runGraph(
          () => graph,
          async (step, stepSignal) => {
            await runStep(step, run, stepSignal);
            if (!decideSinkAtConnect || step.kind !== 'service' || step.service !== 'connect') return;
            const actual = await connectSinkMode(run.endpoints.connect);
            if (actual === sink) return;
            events?.onNote?.(
              actual === 'connect'
                ? "Connect has Confluent's Elasticsearch sink: it indexes parcel.outbox (the embedded sink is not started)"
                : 'Connect has no Elasticsearch sink plugin: the embedded sink indexes parcel.outbox',
            );
            sink = actual;
            result.sink = sink;
            // The same plan up to Connect; what follows it for the sink Connect really has.
            const fresh = planUp({ services, ready, done: doneTasks, sink, partitions: options.partitions });
            const tail = fresh.slice(fresh.findIndex((s) => s.kind === 'service' && s.service === 'connect') + 1);
            const at = plan.indexOf(step);
            plan = [...plan.slice(0, at + 1), ...tail];
            graph = { items: plan, deps: stepDependencies(plan, dependencies) };
            result.steps = plan;
            events?.onReplan?.(plan);
          },
          signal,
        );
      } catch (error) {
        for (const { c, service } of [...run.started].reverse()) await stopService(paths, c, service);
        for (const runtime of runtimes.values()) await runtime.finishRun(true);
        // A new stack that failed whole has no runtime yet: the next `up` may choose another.
        if (newStack) {
          const after = await readState(paths);
          const running = await Promise.all(Object.values(after?.services ?? {}).map((s) => hasInstance(s)));
          if (!running.some(Boolean))
            await updateState(paths, (st) => {
              delete st.runtime;
            });
        }
        throw error;
      }
    });
    for (const runtime of runtimes.values()) await runtime.finishRun(false);
    await updateState(paths, (st) => {
      if (services.includes('sink')) st.sink = sink;
    });
    if (options.partitions !== undefined && doneTasks.has('topics')) await notePartitions(endpoints.kafka, options.partitions, events);
    result.endpoints = endpoints;
    // Steps run at once finish in any order: report what started in the plan's order, as before.
    const order = (name: ServiceName) => result.steps.findIndex((s) => s.kind === 'service' && s.service === name);
    result.started.sort((a, b) => order(a.service) - order(b.service));
    return result;
  });
}

/** The component a start runs: service elasticsearch's is the chosen engine's (same ports and probe, another launch). */
const componentToStart = (name: ServiceName, options: UpOptions): Component =>
  name === 'elasticsearch' ? searchEngineComponent(options.searchEngine ?? 'elasticsearch') : component(name);

/** What the steps of one `up` share while they run. */
interface StepRun {
  options: UpOptions;
  runtimeFor(c: Component): Runtime;
  ports: Record<string, Record<string, number>>;
  artifacts: Record<string, string>;
  hostFor(name: ServiceName): string;
  endpoints: Endpoints;
  peers: Endpoints;
  /** What this run created, stopped again (in reverse) when a later step fails. */
  started: { c: Component; service: ServiceState }[];
  result: UpResult;
}

/** One step of the plan: a service started through the runtime, or a set-up task; reported to the events. */
async function runStep(step: Step, run: StepRun, signal: AbortSignal): Promise<void> {
  if (step.kind === 'service' && step.action === 'keep') return;
  if (signal.aborted) throw new UserError('INTERRUPTED', 'Interrupted.');
  const { events } = run.options;
  events?.onStepStart?.(step);
  const begin = Date.now();
  try {
    if (step.kind === 'service') await startStep(step.service, run, signal, (m) => events?.onStepProgress?.(step, m));
    else await taskStep(step.task, run, (m) => events?.onStepProgress?.(step, m));
  } catch (error) {
    events?.onStepFailed?.(step, error);
    throw error;
  }
  events?.onStepDone?.(step, (Date.now() - begin) / 1000);
}

async function startStep(name: ServiceName, run: StepRun, signal: AbortSignal, onProgress: (message: string) => void): Promise<void> {
  const { paths, env, waitTimeoutMs } = run.options;
  const c = componentToStart(name, run.options);
  const runtime = run.runtimeFor(c);
  // A container reaches its peers on the stack's network; a host process where the host does.
  const endpoints = runtime.name === 'docker' ? run.peers : run.endpoints;
  const ctx = serviceContext(c, { paths, env, host: run.hostFor(name), ports: run.ports[name]!, endpoints, artifacts: run.artifacts, onProgress });
  const r = await startService(runtime, c, ctx, { timeoutMs: waitTimeoutMs, onCreated: (service) => run.started.push({ c, service }), signal });
  Object.assign(run.endpoints, r.endpoints);
  Object.assign(run.peers, r.peerEndpoints);
  const identity = runtime.identify(r.service);
  run.result.started.push({ service: name, seconds: r.seconds, id: identity?.id ?? '', key: identity?.key ?? '', pid: identity?.pid ?? null });
}

async function taskStep(task: TaskName, run: StepRun, onProgress: (message: string) => void): Promise<void> {
  const { paths, env, cwd, partitions, waitTimeoutMs } = run.options;
  await runTask(task, {
    paths,
    env,
    cwd: cwd ?? process.cwd(),
    endpoints: run.endpoints,
    partitions: partitions ?? 1,
    waitTimeoutMs,
    debeziumPassword: () => stackSecret(paths, 'debeziumPassword'),
    onProgress,
  });
  // Migrations and the role run after every start of PostgreSQL; the rest once per stack data.
  if (task !== 'migrate' && task !== 'debezium-role') {
    await updateState(paths, (st) => {
      st.tasks = { ...st.tasks, [task]: new Date().toISOString() };
    });
  }
}

/**
 * What runs for the stack but is recorded nowhere: started by an `up` killed before it recorded it
 * (every start happens under the lock this one holds), so stopped before its service starts again.
 */
async function stopUnrecorded(paths: StackPaths, runtimes: Iterable<Runtime>, state: StackState, events: UpEvents | undefined): Promise<void> {
  const recorded = new Set(await Promise.all(Object.values(state.services).map((s) => instanceKey(s))));
  for (const runtime of runtimes) {
    for (const found of await runtime.find(paths)) {
      const identity = runtime.identify(found);
      if (!identity || recorded.has(identity.key)) continue;
      events?.onNote?.(`${identity.id} belongs to stack "${paths.name}" but is recorded nowhere (left by an interrupted command); stopping it`);
      await runtime.stop(undefined, found);
    }
  }
}

/** What is to start but still recorded: a hung instance is stopped, a vanished one forgotten. */
async function forgetOrStopRecorded(paths: StackPaths, toStart: Component[], state: StackState, events: UpEvents | undefined): Promise<void> {
  for (const c of toStart) {
    const recorded = state.services[c.name];
    if (!recorded || !(await hasInstance(recorded))) continue;
    if (await isServiceAlive(recorded)) {
      events?.onNote?.(`${c.name} is running but not ready; restarting it`);
      await stopService(paths, c, recorded);
    } else {
      const id = (await runtimeOf(recorded)).identify(recorded)?.id;
      events?.onNote?.(`${c.name} is not running any more (${id}); starting it again`);
      await forgetService(paths, c.name, c.endpointNames);
    }
  }
}

/** Says so when --partitions asks for a count the existing parcel.outbox does not have (it is never changed). */
async function notePartitions(kafka: string | undefined, wanted: number, events: UpEvents | undefined): Promise<void> {
  if (!kafka) return;
  const [{ KafkaAdmin }, { OUTBOX_TOPIC }] = await Promise.all([import('../clients/kafka.js'), import('./tasks.js')]);
  const admin = await KafkaAdmin.connect(kafka).catch(() => undefined);
  if (!admin) return;
  try {
    const { partitions } = await admin.describe(OUTBOX_TOPIC);
    // Adding partitions would move keys to other partitions and break the per-parcel order.
    if (partitions !== wanted) {
      events?.onNote?.(
        `${OUTBOX_TOPIC} keeps its ${partitions} partition${partitions === 1 ? '' : 's'}: --partitions ${wanted} applies only when up creates the topic (\`outboxctl down --volumes\`, then \`up --partitions ${wanted}\`)`,
      );
    }
  } catch {
    // No topic to compare with: nothing to say.
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** `connect` when the worker at `url` lists Confluent's Elasticsearch sink, else `embedded`. */
async function connectSinkMode(url: string | undefined): Promise<SinkMode> {
  if (!url) return 'embedded';
  const [{ listConnectorPlugins }, { ES_SINK_CLASS }] = await Promise.all([import('../clients/connect.js'), import('../sink/config.js')]);
  const plugins = await listConnectorPlugins(url).catch(() => []);
  return plugins.some((p) => p.class === ES_SINK_CLASS) ? 'connect' : 'embedded';
}

/** `auto` is Connect's plugin only when the running worker lists it (the native runtime installs none). */
async function resolveSinkMode(choice: SinkMode | 'auto', state: StackState, ready: ReadonlySet<ServiceName>): Promise<SinkMode> {
  if (choice !== 'auto') return choice;
  // Keep what the stack runs: two sinks in one consumer group would split (or refuse) its partitions.
  if (state.sink) return state.sink;
  if (!ready.has('connect') || !state.endpoints.connect) return 'embedded';
  return connectSinkMode(state.endpoints.connect);
}
