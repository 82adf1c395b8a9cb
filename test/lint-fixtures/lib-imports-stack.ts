// src/lib reaching up into the stack.
import type { StackState } from '../stack/state.js';

export type State = StackState;
