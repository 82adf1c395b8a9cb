// The Runtime interface's registry: for the orchestration in src/stack, not for commands.
import { loadRuntime } from './runtimes/index.js';

export const load = loadRuntime;
