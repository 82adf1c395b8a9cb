import type { Output } from '../lib/output.js';
import { describeStep, type Step } from '../stack/plan.js';
import type { UpEvents } from '../stack/up.js';

const label = (step: Step) => (step.kind === 'service' ? step.service : step.task);

/** At most one progress line per subject every few seconds on pipes (Maven resolution, image pulls). */
export const PROGRESS_INTERVAL_MS = 3_000;

/**
 * A filter for progress messages: messages that differ only in their numbers ("kafka: pulling
 * apache/kafka:4.3.1: 12 MB / 80 MB", "resolving kafka-4.3.1: 40 files downloaded") are one
 * subject, printed at most once per `intervalMs`; any other message prints at once.
 */
export function progressThrottle(intervalMs = PROGRESS_INTERVAL_MS, now: () => number = Date.now): (key: string, message: string) => boolean {
  const last = new Map<string, { at: number; message: string }>();
  return (key, message) => {
    const subject = `${key}\0${message.replace(/\d+/g, '#')}`;
    const seen = last.get(subject);
    const t = now();
    if (seen && (seen.message === message || t - seen.at < intervalMs)) return false;
    last.set(subject, { at: t, message });
    return true;
  };
}

/** Progress of `up` as plain lines on stderr: non-TTY, CI, --json. */
export function plainUpEvents(out: Output, options: { intervalMs?: number } = {}): UpEvents {
  const c = out.errColor;
  const shows = progressThrottle(options.intervalMs);
  return {
    onPlan: (steps) => {
      const todo = steps.filter((s) => !(s.kind === 'service' && s.action === 'keep'));
      if (todo.length === 0) return;
      out.info(`plan: ${steps.map((s) => (s.kind === 'service' && s.action === 'keep' ? `${s.service} (ready)` : label(s))).join(' → ')}`);
    },
    onStepStart: (step) => out.info(`${c.cyan('▸')} ${describeStep(step)}`),
    onStepProgress: (step, message) => {
      if (shows(step ? label(step) : '', message)) out.info(`  ${step ? `${label(step)}: ` : ''}${message}`);
    },
    onStepDone: (step, seconds) =>
      out.info(`${c.green('✔')} ${step.kind === 'service' ? `${step.service} ready` : `${label(step)} done`} ${c.dim(`(${seconds.toFixed(1)}s)`)}`),
    onStepFailed: (step) => out.info(`${c.red('✖')} ${describeStep(step)} failed`),
    onNote: (message) => out.warn(message),
  };
}
