import type { ServiceName } from './components/types.js';

export type Step =
  | { kind: 'service'; service: ServiceName; action: 'start' | 'keep' }
  | { kind: 'task'; task: 'migrate' | 'debezium-role'; service: ServiceName };

export interface PlanInput {
  /** Requested services with their dependencies, in start order. */
  services: ServiceName[];
  /** Services already running and ready. */
  ready: ReadonlySet<ServiceName>;
}

/**
 * The one place that says what `up` does, in order: each service started (or kept when it is
 * ready), with the one-time PostgreSQL tasks right after PostgreSQL starts.
 */
export function planUp({ services, ready }: PlanInput): Step[] {
  const steps: Step[] = [];
  for (const service of services) {
    const start = !ready.has(service);
    steps.push({ kind: 'service', service, action: start ? 'start' : 'keep' });
    if (service === 'postgres' && start) {
      steps.push({ kind: 'task', task: 'migrate', service });
      steps.push({ kind: 'task', task: 'debezium-role', service });
    }
  }
  return steps;
}

export function describeStep(step: Step): string {
  if (step.kind === 'task') {
    return step.task === 'migrate' ? 'apply database migrations (db migrate)' : 'ensure the debezium role (LOGIN REPLICATION)';
  }
  return `${step.action === 'start' ? 'start' : 'keep (ready)'} ${step.service}`;
}

/** Services to stop for `down`, in reverse start order. */
export function planDown(running: ServiceName[], order: readonly ServiceName[]): ServiceName[] {
  return [...order].reverse().filter((s) => running.includes(s));
}
