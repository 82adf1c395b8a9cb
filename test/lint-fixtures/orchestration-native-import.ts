// Orchestration code signalling processes itself instead of asking the runtime.
import { stopGroup } from './runtimes/native/process.js';

export const stop = stopGroup;
