import { resolveToken } from '../lib/config.js';
import { parseDuration } from '../lib/duration.js';
import { checkReportFile, type StepResult } from '../smoke/report.js';
import { parseRuntimeChoice, withImageOverrides } from '../stack/up.js';
import type { CommandContext } from './context.js';

export default async function run(ctx: CommandContext): Promise<number> {
  const { flags, out } = ctx;
  const runtime = parseRuntimeChoice(flags.runtime);
  const timeoutMs = parseDuration(String(flags.timeout ?? '300s'), '--timeout');
  const reportFile = flags.report === undefined ? undefined : String(flags.report);
  if (reportFile !== undefined) await checkReportFile(reportFile);
  // A token no header can carry is a usage error now, not a failed step later.
  resolveToken({ flags, env: ctx.io.env });

  const [{ smoke }, { SMOKE_STEPS }, { plainUpEvents }] = await Promise.all([
    import('../smoke/run.js'),
    import('../smoke/steps.js'),
    import('../ui/plain-progress.js'),
  ]);
  const c = out.errColor;
  const width = Math.max(...SMOKE_STEPS.map((s) => s.name.length));
  const line = (r: StepResult, index: number, total: number) => {
    const mark = r.status === 'passed' ? c.green('✔') : r.status === 'failed' ? c.red('✖') : c.dim('-');
    const time = r.status === 'skipped' ? '' : c.dim(` ${r.seconds.toFixed(2)}s`);
    return `${mark} ${c.dim(`[${index + 1}/${total}]`)} ${r.name.padEnd(width)}${time}  ${r.status === 'failed' ? c.red(r.message) : r.message}`;
  };
  const report = await smoke({
    paths: ctx.stack,
    env: withImageOverrides(ctx.io.env, flags.image),
    cwd: ctx.io.cwd,
    runtime,
    timeoutMs,
    keep: flags.keep === true,
    reportFile,
    steps: SMOKE_STEPS,
    upEvents: plainUpEvents(out),
    token: flags.token === undefined ? undefined : String(flags.token),
    events: {
      onStepStart: (step, index, total) => {
        if (step.name === 'stack') out.info(`${c.cyan('▸')} ${c.dim(`[${index + 1}/${total}]`)} ${step.name}: ${step.title}`);
      },
      onStepEnd: (result, index, total) => out.info(line(result, index, total)),
      onNote: (m) => out.info(m),
      onWarning: (m) => out.warn(m),
    },
  });
  if (reportFile) out.info(`report: ${reportFile}`);
  if (ctx.json) {
    out.document(report);
  } else {
    const failed = report.steps.find((s) => s.status === 'failed');
    const took = `${report.seconds.toFixed(1)} s`;
    const ran = report.steps.filter((s) => s.status !== 'skipped').length;
    out.result(
      failed
        ? `smoke failed at ${failed.name} after ${took}: ${failed.message}`
        : report.passed
          ? `smoke passed: ${report.steps.length} steps in ${took} (stack "${report.stack}", parcel ${report.parcelId}).`
          : `smoke interrupted after ${took}: ${ran} of ${report.steps.length} steps ran.`,
    );
  }
  return report.passed ? 0 : 1;
}
