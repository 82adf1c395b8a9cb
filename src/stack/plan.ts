import type { ServiceName } from './components/types.js';

/** One-time set-up tasks; each runs right after the service it belongs to. */
export type TaskName = 'migrate' | 'debezium-role' | 'topics' | 'index-templates' | 'register-source' | 'register-sink';

export type Step = { kind: 'service'; service: ServiceName; action: 'start' | 'keep' } | { kind: 'task'; task: TaskName; service: ServiceName };

/** Who runs the Elasticsearch sink: Connect's plugin or outboxctl's embedded sink. */
export type SinkMode = 'connect' | 'embedded';

export interface PlanInput {
  /** Requested services with their dependencies, in start order. */
  services: ServiceName[];
  /** Services already running and ready. */
  ready: ReadonlySet<ServiceName>;
  /** Tasks already done on this stack's data (recorded in the state file). */
  done?: ReadonlySet<TaskName>;
  sink?: SinkMode;
  /** Partitions of parcel.outbox (step 5). */
  partitions?: number;
}

/**
 * The one place that says what `up` does, in order: each service started (or kept when it is
 * ready), each followed by its one-time tasks. Migrations and the role run after every start
 * of PostgreSQL (both are idempotent and pick up an upgrade); the other tasks run until the
 * state file records them done, so a second `up` repeats none of them. The source connector
 * is registered before the sink and tracking start: Debezium creates its slot then, before
 * anything writes an event it must see.
 */
export function planUp({ services, ready, done = new Set(), sink = 'embedded' }: PlanInput): Step[] {
  const steps: Step[] = [];
  const has = (s: ServiceName) => services.includes(s);
  const task = (t: TaskName, service: ServiceName) => {
    if (!done.has(t)) steps.push({ kind: 'task', task: t, service });
  };
  for (const service of services) {
    if (service === 'sink' && sink === 'connect') continue;
    const start = !ready.has(service);
    steps.push({ kind: 'service', service, action: start ? 'start' : 'keep' });
    // Also on a kept PostgreSQL while the source is still to register: it needs the publication of a newer migration.
    const sourcePending = has('connect') && !done.has('register-source');
    if (service === 'postgres' && (start || sourcePending)) {
      steps.push({ kind: 'task', task: 'migrate', service });
      steps.push({ kind: 'task', task: 'debezium-role', service });
    }
    // The pipeline's topics, when something of the pipeline runs (a bare `--services kafka` stays empty).
    if (service === 'kafka' && (has('connect') || has('sink'))) task('topics', service);
    if (service === 'elasticsearch') task('index-templates', service);
    if (service === 'connect' && has('postgres')) task('register-source', service);
    if (service === 'connect' && sink === 'connect' && has('sink')) task('register-sink', service);
  }
  return steps;
}

const TASKS: Record<TaskName, (input: { partitions: number }) => string> = {
  migrate: () => 'apply database migrations (db migrate: tables, publication parcel_outbox_pub, heartbeat table)',
  'debezium-role': () => 'ensure the debezium role (LOGIN REPLICATION)',
  topics: ({ partitions }) =>
    `create topics parcel.outbox (${partitions} partition${partitions === 1 ? '' : 's'}), parcel.outbox.dlq and Debezium's heartbeat topic`,
  'index-templates': () => 'install the Elasticsearch index templates (events, parcels)',
  'register-source': () => 'register parcel-outbox-source and wait until RUNNING (Debezium creates its replication slot)',
  'register-sink': () => 'register elasticsearch-sink on Connect and wait until RUNNING',
};

export function describeStep(step: Step, input: { partitions?: number } = {}): string {
  if (step.kind === 'task') return TASKS[step.task]({ partitions: input.partitions ?? 1 });
  const what = step.service === 'sink' ? "the embedded sink (elasticsearch-sink's semantics)" : step.service;
  return `${step.action === 'start' ? 'start' : 'keep (ready)'} ${what}`;
}

/**
 * Numbered lines for `up --dry-run`; what completes a step shares its number (the index
 * templates after Elasticsearch, auditing beside tracking).
 */
export function numberSteps(steps: Step[], input: { partitions?: number } = {}): string[] {
  let n = 0;
  return steps.map((step, i) => {
    const previous = steps[i - 1];
    const continues =
      (step.kind === 'task' && step.task === 'index-templates' && previous?.kind === 'service' && previous.service === 'elasticsearch') ||
      (step.kind === 'service' && step.service === 'auditing' && previous?.kind === 'service' && previous.service === 'tracking');
    if (continues) {
      return `${' '.repeat(String(n).length + 2)}then ${describeStep(step, input)}`;
    }
    n++;
    return `${n}. ${describeStep(step, input)}`;
  });
}

/** Services to stop for `down`, in reverse start order. */
export function planDown(running: ServiceName[], order: readonly ServiceName[]): ServiceName[] {
  return [...order].reverse().filter((s) => running.includes(s));
}

export interface DependencyInput {
  /** Each service's own dependencies (the components' `dependsOn`). */
  dependsOn(service: ServiceName): readonly ServiceName[];
  /**
   * A service whose start decides what follows it (which sink Connect's plugins allow): every later
   * step waits for it, so none has started when the rest of the plan is replaced.
   */
  barrier?: ServiceName;
}

/**
 * For each step, the indices of the steps it waits for; what does not depend on each other runs at
 * once (PostgreSQL, Kafka and Elasticsearch start together). A service waits for every step of the
 * services it depends on, directly or not (their starts and their tasks: Connect for Kafka's topics,
 * the sink for the index templates); a task for its own service's start and the tasks before it; a
 * connector's registration for everything before it, and every service after a registration for it
 * (the source's slot exists before anything writes an event it must see), as when the steps ran one by one.
 */
export function stepDependencies(steps: Step[], { dependsOn, barrier }: DependencyInput): number[][] {
  const closure = (service: ServiceName): Set<ServiceName> => {
    const seen = new Set<ServiceName>();
    const visit = (s: ServiceName) => {
      for (const d of dependsOn(s)) {
        if (seen.has(d)) continue;
        seen.add(d);
        visit(d);
      }
    };
    visit(service);
    return seen;
  };
  const isRegistration = (s: Step) => s.kind === 'task' && (s.task === 'register-source' || s.task === 'register-sink');
  const barrierAt = barrier === undefined ? -1 : steps.findIndex((s) => s.kind === 'service' && s.service === barrier);
  return steps.map((step, i) => {
    const before = steps.slice(0, i).map((s, j) => ({ s, j }));
    const waits = new Set<number>();
    if (isRegistration(step)) for (const { j } of before) waits.add(j);
    else if (step.kind === 'task') {
      for (const { s, j } of before) if (s.service === step.service) waits.add(j);
    } else {
      const deps = closure(step.service);
      for (const { s, j } of before) if (deps.has(s.service) || isRegistration(s)) waits.add(j);
    }
    if (barrierAt >= 0 && i > barrierAt) waits.add(barrierAt);
    return [...waits].sort((a, b) => a - b);
  });
}
