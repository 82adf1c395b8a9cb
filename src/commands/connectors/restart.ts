import type { CommandContext } from '../context.js';
import { changeState } from './shared.js';

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const includeTasks = ctx.flags.includeTasks === true;
  const onlyFailed = ctx.flags.onlyFailed === true;
  await changeState(ctx, name, {
    done: onlyFailed
      ? `Restarted what had failed of ${name}${includeTasks ? ' and its tasks' : ''}`
      : `Restarted ${name}${includeTasks ? ' and its tasks' : ''}`,
    target: 'RUNNING',
    act: (client) => client.restart(name, includeTasks, onlyFailed),
  });
}
