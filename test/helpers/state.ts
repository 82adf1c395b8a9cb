import { stackPaths } from '../../src/stack/paths.js';
import { type NativeServiceState, readState, type StackState } from '../../src/stack/state.js';

/** The stack's state file as outboxctl reads it (validated, migrated); fails the test when there is none. */
export async function stackState(home: string, stack = 'default'): Promise<StackState> {
  const state = await readState(stackPaths(home, stack));
  if (!state) throw new Error(`stack "${stack}" under ${home} has no state file`);
  return state;
}

/** The state of a stack on the native runtime, its services narrowed to processes (fails when one is not). */
export async function nativeStackState(
  home: string,
  stack = 'default',
): Promise<Omit<StackState, 'services'> & { services: Record<string, NativeServiceState> }> {
  const state = await stackState(home, stack);
  for (const [name, service] of Object.entries(state.services)) {
    if (service.runtime !== 'native') throw new Error(`service ${name} of stack "${stack}" runs on ${service.runtime}, not native`);
  }
  return state as Omit<StackState, 'services'> & { services: Record<string, NativeServiceState> };
}
