import type { CommandContext } from '../context.js';
import { changeState } from './shared.js';

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  await changeState(ctx, name, { done: `Paused ${name}`, target: 'PAUSED', act: (client) => client.pause(name) });
}
