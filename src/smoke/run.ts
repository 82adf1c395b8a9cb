import { randomBytes } from 'node:crypto';
import { CliError } from '../lib/errors.js';
import { onInterrupt } from '../lib/interrupt.js';
import type { StackPaths } from '../stack/paths.js';
import type { RuntimeChoice, UpEvents } from '../stack/up.js';
import { type SmokeContext, type SmokeStep, type SmokeTargets, StepFailure } from './context.js';
import { redactUrls } from './redact.js';
import { SMOKE_REPORT_SCHEMA_VERSION, type SmokeReport, type StepResult, writeReport } from './report.js';

export interface SmokeEvents {
  onStepStart?(step: SmokeStep, index: number, total: number): void;
  onStepEnd?(result: StepResult, index: number, total: number): void;
  onNote?(message: string): void;
  onWarning?(message: string): void;
}

/**
 * Runs the steps in order with their timings; after a failure the rest are skipped (each
 * needs what the ones before it found). Never throws for a step's failure.
 */
export async function runSteps(steps: readonly SmokeStep[], ctx: SmokeContext, events: SmokeEvents = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  let failed: StepResult | undefined;
  for (const [index, step] of steps.entries()) {
    let result: StepResult;
    const before = results.at(-1);
    if (failed) {
      result = { name: step.name, title: step.title, status: 'skipped', seconds: 0, message: `not run: ${failed.name} failed.` };
    } else if (ctx.signal.aborted) {
      result = { name: step.name, title: step.title, status: 'skipped', seconds: 0, message: 'not run: interrupted.' };
    } else if (Date.now() >= ctx.deadline) {
      // The deadline ran out in an earlier step that still passed (e.g. a slow `up`): this step is the one that cannot run.
      const took = before ? ` (${before.name} took ${before.seconds.toFixed(1)} s)` : '';
      result = {
        name: step.name,
        title: step.title,
        status: 'failed',
        seconds: 0,
        message: `not started: the run's --timeout ran out${took}.`,
        failure: 'timeout',
      };
      failed = result;
    } else {
      events.onStepStart?.(step, index, steps.length);
      const begin = performance.now();
      try {
        const message = redactUrls(await step.run(ctx));
        result = { name: step.name, title: step.title, status: 'passed', seconds: (performance.now() - begin) / 1000, message };
      } catch (error) {
        result = {
          name: step.name,
          title: step.title,
          status: 'failed',
          seconds: (performance.now() - begin) / 1000,
          message: redactUrls(failureMessage(error)),
          failure: failureKind(error),
        };
        failed = result;
      }
    }
    results.push(result);
    events.onStepEnd?.(result, index, steps.length);
  }
  return results;
}

/** How a step failed: the kind a StepFailure names; anything else could not be done at all. */
function failureKind(error: unknown): 'timeout' | 'assertion' | 'error' {
  return error instanceof StepFailure ? error.kind : 'error';
}

/** One sentence for a step's failure; a bug keeps its own message rather than a stack. */
function failureMessage(error: unknown): string {
  if (error instanceof StepFailure || error instanceof CliError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}.`;
}

export interface SmokeOptions {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  cwd: string;
  runtime: RuntimeChoice;
  timeoutMs: number;
  keep: boolean;
  reportFile?: string;
  steps: readonly SmokeStep[];
  upEvents: UpEvents;
  events?: SmokeEvents;
  /** `--token`, if given. */
  token?: string;
  /**
   * A deployed pipeline reached through a context, its targets already resolved (auth included):
   * then the steps start and stop nothing and read no local stack state.
   */
  context?: { name: string; targets: SmokeTargets };
}

/**
 * `outboxctl smoke`: the steps against the stack (or a context's pipeline), the report, then what
 * the run started is stopped again (unless `keep`). Ctrl-C ends the step under way, writes the report and tears down.
 */
export async function smoke(options: SmokeOptions): Promise<SmokeReport> {
  const startedAt = new Date();
  const begin = performance.now();
  const controller = new AbortController();
  let settled!: () => void;
  const done = new Promise<void>((resolve) => (settled = resolve));
  const forgetInterrupt = onInterrupt(async () => {
    controller.abort();
    await done;
  });
  const ctx: SmokeContext = {
    paths: options.paths,
    ...(options.context ? { external: { context: options.context.name } } : {}),
    env: options.env,
    cwd: options.cwd,
    runtime: options.runtime,
    deadline: Date.now() + options.timeoutMs,
    signal: controller.signal,
    token: `smoke${randomBytes(5).toString('hex')}`,
    tokenFlag: options.token,
    upEvents: options.upEvents,
    // Every sentence of the run goes out without the password of a URL in it.
    warn: (m) => options.events?.onWarning?.(redactUrls(m)),
    targets: options.context?.targets ?? {},
    started: [],
    events: [],
    documents: [],
  };
  try {
    const steps = await runSteps(options.steps, ctx, options.events);
    let stoppedAfter: string[] = [];
    if (ctx.started.length > 0) {
      if (options.keep)
        options.events?.onNote?.(`kept running what smoke started (${ctx.started.map((s) => s.service).join(', ')}); stop it with \`outboxctl down\``);
      else stoppedAfter = await teardown(ctx, options.events);
    }
    const report: SmokeReport = {
      schemaVersion: SMOKE_REPORT_SCHEMA_VERSION,
      stack: options.context ? null : options.paths.name,
      context: options.context?.name ?? null,
      startedAt: startedAt.toISOString(),
      seconds: (performance.now() - begin) / 1000,
      passed: steps.every((s) => s.status === 'passed'),
      steps,
      parcelId: ctx.created?.id ?? null,
      eventIds: ctx.events.map((e) => e.eventId),
      documents: ctx.documents,
      stoppedAfter,
    };
    if (options.reportFile) await writeReport(options.reportFile, report);
    return report;
  } finally {
    settled();
    forgetInterrupt();
  }
}

/**
 * Stops what the stack step started, under the stack's lock, and only services still run by the
 * process smoke started (one restarted meanwhile by someone else is left alone). Returns what stopped.
 */
async function teardown(ctx: SmokeContext, events: SmokeEvents | undefined): Promise<string[]> {
  const [{ stopServices }, { instanceKey }, { readState, withStackLock }] = await Promise.all([
    import('../stack/lifecycle.js'),
    import('../stack/service.js'),
    import('../stack/state.js'),
  ]);
  try {
    return await withStackLock(ctx.paths, {}, async () => {
      const state = await readState(ctx.paths);
      const keys = await Promise.all(ctx.started.map((s) => instanceKey(state?.services[s.service])));
      const ours = ctx.started.filter((s, i) => keys[i] === s.key).map((s) => s.service);
      const others = ctx.started.filter((s) => !ours.includes(s.service)).map((s) => s.service);
      if (others.length > 0) events?.onWarning?.(`left ${others.join(', ')} running: restarted by someone else since smoke started it`);
      if (ours.length === 0) return [];
      events?.onNote?.(`stopping what smoke started: ${ours.join(', ')}`);
      return (await stopServices(ctx.paths, ours)).filter((r) => r.result === 'stopped' || r.result === 'killed').map((r) => r.service);
    });
  } catch (error) {
    events?.onWarning?.(redactUrls(`could not stop everything smoke started: ${(error as Error).message}`));
    return [];
  }
}
