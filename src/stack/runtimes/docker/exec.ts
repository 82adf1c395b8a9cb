import type { Component } from '../../components/types.js';
import type { ServiceState } from '../../state.js';
import type { ExecRequest } from '../runtime.js';

/** Placeholder until exec is built (issue 14). */
export async function dockerExec(_component: Component, _service: ServiceState, _request: ExecRequest): Promise<number> {
  throw new Error('exec is not built yet');
}
