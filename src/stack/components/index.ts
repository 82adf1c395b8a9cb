import { UsageError } from '../../lib/errors.js';
import { auditingService } from './auditing.js';
import { connectComponent } from './connect.js';
import { elasticsearchComponent } from './elasticsearch.js';
import { kafkaComponent } from './kafka.js';
import { postgresService } from './postgres.js';
import { sinkService } from './sink.js';
import { trackingService } from './tracking.js';
import { type Component, SERVICE_ORDER, type ServiceName } from './types.js';

/** Every component the stack can run today, by service name. */
export const COMPONENTS: Partial<Record<ServiceName, Component>> = {
  postgres: postgresService,
  kafka: kafkaComponent,
  elasticsearch: elasticsearchComponent,
  connect: connectComponent,
  sink: sinkService,
  tracking: trackingService,
  auditing: auditingService,
};

/** Components added at run time (a test's fake service; later, a project's own): they start after the built-in ones. */
const added = new Map<ServiceName, Component>();

/**
 * Adds a component to the stack, described once: every command (up, status, logs, restart, stop,
 * down) then runs it like a built-in one. Returns the function that removes it again.
 */
export function registerComponent(c: Component): () => void {
  if (COMPONENTS[c.name] || added.has(c.name)) throw new UsageError(`A service "${c.name}" exists already.`);
  added.set(c.name, c);
  return () => added.delete(c.name);
}

/** Every service in start order (`down` reverses it): the built-in ones, then those added. */
export function serviceOrder(): ServiceName[] {
  return [...SERVICE_ORDER, ...added.keys()];
}

export function availableServices(): ServiceName[] {
  return serviceOrder().filter((s) => COMPONENTS[s] ?? added.get(s));
}

export function component(name: ServiceName): Component {
  const c = COMPONENTS[name] ?? added.get(name);
  if (!c) throw new UsageError(`Service "${name}" is not available yet.`, { hint: `Available: ${availableServices().join(', ')}.` });
  return c;
}

/** Parses `--services a,b`; unknown names are a usage error naming the valid ones. */
export function parseServices(list: string | undefined): ServiceName[] | undefined {
  if (list === undefined) return undefined;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(serviceOrder() as string[]).includes(name)) {
      throw new UsageError(`Unknown service "${name}".`, { hint: `Services: ${serviceOrder().join(', ')}.` });
    }
    component(name as ServiceName);
  }
  return names as ServiceName[];
}

/** The services and everything they depend on, in start order. */
export function withDependencies(requested: ServiceName[]): ServiceName[] {
  const wanted = new Set<ServiceName>();
  const add = (name: ServiceName) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dep of component(name).dependsOn) add(dep);
  };
  requested.forEach(add);
  return serviceOrder().filter((s) => wanted.has(s));
}

export type { Component, ServiceName };
