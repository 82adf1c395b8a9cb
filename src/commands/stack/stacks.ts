import { renderTable } from '../../lib/table.js';
import { listStacks } from '../../stack/lifecycle.js';
import type { CommandContext } from '../context.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const stacks = await listStacks(ctx.stack.home);
  if (ctx.json) {
    ctx.out.document({ home: ctx.stack.home, stacks });
    return;
  }
  if (stacks.length === 0) {
    ctx.out.result(`No stacks under ${ctx.stack.home}.`);
    return;
  }
  ctx.out.result(
    renderTable(stacks, [
      { header: 'STACK', value: (s) => s.name },
      { header: 'RUNTIME', value: (s) => s.runtime ?? '' },
      { header: 'RUNNING', value: (s) => (s.problem ? `? (${s.problem})` : s.running.join(',') || '-') },
      { header: 'STALE', value: (s) => (s.stale.length ? `${s.stale.join(',')} (outboxctl down cleans)` : '') },
    ]),
  );
}
