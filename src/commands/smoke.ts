import { type ResolveInput, resolveHttpTarget, resolveKafkaTarget, resolveToken } from '../lib/config.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/errors.js';
import type { SmokeTargets } from '../smoke/context.js';
import { checkReportFile, leftBehind, type StepResult } from '../smoke/report.js';
import { parseRuntimeChoice, withImageOverrides } from '../stack/up.js';
import type { CommandContext } from './context.js';

/** Under a context smoke starts nothing: the options that say how to start a stack make no sense there. */
function refuseStackOptions(flags: Record<string, unknown>, context: string): void {
  const given = [
    flags.runtime !== undefined && '--runtime',
    Array.isArray(flags.image) && flags.image.length > 0 && '--image',
    flags.keep === true && '--keep',
  ].filter((f): f is string => typeof f === 'string');
  if (given.length === 0) return;
  throw new UsageError(
    `${given.join(', ')} ${given.length === 1 ? 'has' : 'have'} no meaning under context "${context}": smoke starts and stops nothing there.`,
    {
      hint: 'Leave it out, or bring up a local stack for smoke with --context local.',
    },
  );
}

/** Every endpoint of the context's pipeline with its auth, resolved (secrets read) before anything runs. */
function contextTargets(input: ResolveInput): SmokeTargets {
  // Connect is only asked why records do not move: a context without it still runs the flow.
  let connect: SmokeTargets['connect'];
  try {
    connect = resolveHttpTarget('connect', input);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
  }
  return {
    kafka: resolveKafkaTarget(input),
    elasticsearch: resolveHttpTarget('elasticsearch', input),
    tracking: resolveHttpTarget('tracking', input),
    auditing: resolveHttpTarget('auditing', input),
    ...(connect ? { connect } : {}),
  };
}

export default async function run(ctx: CommandContext): Promise<number> {
  const { flags, out } = ctx;
  const { context } = ctx;
  if (context) refuseStackOptions(flags, context.name);
  const runtime = parseRuntimeChoice(flags.runtime);
  const timeoutMs = parseDuration(String(flags.timeout ?? '300s'), '--timeout');
  const reportFile = flags.report === undefined ? undefined : String(flags.report);
  if (reportFile !== undefined) await checkReportFile(reportFile);
  // A token no header can carry is a usage error now, not a failed step later; so is a context that lacks an endpoint.
  const targets = context ? contextTargets({ flags, env: ctx.io.env, context }) : undefined;
  if (!context) resolveToken({ flags, env: ctx.io.env });

  const [{ smoke }, { CONTEXT_SMOKE_STEPS, SMOKE_STEPS }, { plainUpEvents }] = await Promise.all([
    import('../smoke/run.js'),
    import('../smoke/steps.js'),
    import('../ui/plain-progress.js'),
  ]);
  const steps = context ? CONTEXT_SMOKE_STEPS : SMOKE_STEPS;
  const c = out.errColor;
  const width = Math.max(...steps.map((s) => s.name.length));
  const line = (r: StepResult, index: number, total: number) => {
    const mark = r.status === 'passed' ? c.green('✔') : r.status === 'failed' ? c.red('✖') : c.dim('-');
    const time = r.status === 'skipped' ? '' : c.dim(` ${r.seconds.toFixed(2)}s`);
    return `${mark} ${c.dim(`[${index + 1}/${total}]`)} ${r.name.padEnd(width)}${time}  ${r.status === 'failed' ? c.red(r.message) : r.message}`;
  };
  const report = await smoke({
    paths: ctx.stack,
    env: context ? ctx.io.env : withImageOverrides(ctx.io.env, flags.image),
    cwd: ctx.io.cwd,
    runtime,
    timeoutMs,
    keep: flags.keep === true,
    reportFile,
    steps,
    upEvents: plainUpEvents(out),
    token: flags.token === undefined ? undefined : String(flags.token),
    ...(context && targets ? { context: { name: context.name, targets } } : {}),
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
    const where = report.context === null ? `stack "${report.stack}"` : `context "${report.context}"`;
    out.result(
      failed
        ? `smoke failed at ${failed.name} after ${took}: ${failed.message}`
        : report.passed
          ? `smoke passed: ${report.steps.length} steps in ${took} (${where}, parcel ${report.parcelId}).`
          : `smoke interrupted after ${took}: ${ran} of ${report.steps.length} steps ran.`,
    );
    // On a deployed pipeline the run's parcel stays: say exactly what it left there.
    const left = report.context === null ? undefined : leftBehind(report);
    if (left) out.result(left);
  }
  return report.passed ? 0 : 1;
}
