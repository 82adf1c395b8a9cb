import type { RuntimeName, ServiceState } from '../state.js';
import type { Runtime } from './runtime.js';

export type { Runtime, ServiceIdentity, StopResult } from './runtime.js';

/** Every runtime there is (`down --volumes` of a stack without usable state asks each what belongs to it). */
export const RUNTIME_NAMES: readonly RuntimeName[] = ['native', 'docker'];

/** The runtime by name, loaded on first use (status and --help import no runtime they do not need). */
export async function loadRuntime(name: RuntimeName): Promise<Runtime> {
  switch (name) {
    case 'native':
      return (await import('./native/index.js')).nativeRuntime;
    case 'docker':
      return (await import('./docker/index.js')).dockerRuntime;
  }
}

/** The runtime that runs a recorded service. */
export function runtimeOf(service: ServiceState): Promise<Runtime> {
  return loadRuntime(service.runtime);
}

/** What to record for a server running in this very process (started by hand with `outboxctl serve`). */
export async function currentProcessState(): Promise<ServiceState> {
  return (await import('./native/index.js')).currentProcess();
}
