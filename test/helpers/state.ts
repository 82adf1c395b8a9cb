import { stackPaths } from '../../src/stack/paths.js';
import { readState, type StackState } from '../../src/stack/state.js';

/** The stack's state file as outboxctl reads it (validated, migrated); fails the test when there is none. */
export async function stackState(home: string, stack = 'default'): Promise<StackState> {
  const state = await readState(stackPaths(home, stack));
  if (!state) throw new Error(`stack "${stack}" under ${home} has no state file`);
  return state;
}
