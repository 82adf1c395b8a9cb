import type { Component } from './types.js';

/** The port inside a component's container that a PortSpec is published from (`container`, else `preferred`). */
export function containerPort(component: Component, name: string): number {
  const spec = component.ports.find((p) => p.name === name);
  if (!spec) throw new Error(`${component.name} has no port "${name}"`);
  return spec.container ?? spec.preferred;
}

/** The port its peers use on the stack's network (Kafka's internal listener), else the container's. */
export function peerPort(component: Component, name: string): number {
  return component.ports.find((p) => p.name === name)?.peer ?? containerPort(component, name);
}

/** Every port of the component by name, as `port` gives it. */
export function portsBy(component: Component, port: (c: Component, name: string) => number): Record<string, number> {
  return Object.fromEntries(component.ports.map((p) => [p.name, port(component, p.name)]));
}
