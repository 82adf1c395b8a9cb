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

export function availableServices(): ServiceName[] {
  return SERVICE_ORDER.filter((s) => COMPONENTS[s]);
}

export function component(name: ServiceName): Component {
  const c = COMPONENTS[name];
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
    if (!(SERVICE_ORDER as readonly string[]).includes(name)) {
      throw new UsageError(`Unknown service "${name}".`, { hint: `Services: ${SERVICE_ORDER.join(', ')}.` });
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
  return SERVICE_ORDER.filter((s) => wanted.has(s));
}

export type { Component, ServiceName };
