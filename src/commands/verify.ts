import { renderReport } from '../verify/report.js';
import { verifyPipeline } from '../verify/run.js';
import { resolveTargets } from '../verify/targets.js';
import { parseSettle, parseWindow } from '../verify/window.js';
import type { CommandContext } from './context.js';

/** `outboxctl verify`: exit 0 when the pipeline is consistent, 1 (with the report still printed) when not. */
export default async function run(ctx: CommandContext): Promise<number> {
  const window = parseWindow(ctx.flags, new Date());
  const settleMs = parseSettle(ctx.flags.settle);
  const targets = await resolveTargets({
    flags: ctx.flags,
    env: ctx.io.env,
    paths: ctx.stack,
    cwd: ctx.io.cwd,
    ...(ctx.context ? { context: ctx.context } : {}),
  });
  const report = await verifyPipeline({ targets, window, settleMs, progress: (m) => ctx.out.info(m) });
  ctx.out.print(report, () => renderReport(report));
  return report.consistent ? 0 : 1;
}
