import type { CommandContext } from '../context.js';
import { changeState } from './shared.js';

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  await changeState(ctx, name, { done: `Resumed ${name}`, target: 'RUNNING', act: (client) => client.resume(name), leavingPause: true });
}
