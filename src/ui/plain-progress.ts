import type { Output } from '../lib/output.js';
import { describeStep, type Step } from '../stack/plan.js';
import type { UpEvents } from '../stack/up.js';

const label = (step: Step) => (step.kind === 'service' ? step.service : step.task);

/** Progress of `up` as plain lines on stderr: non-TTY, CI, --json. */
export function plainUpEvents(out: Output): UpEvents {
  const c = out.errColor;
  return {
    onPlan: (steps) => {
      const todo = steps.filter((s) => !(s.kind === 'service' && s.action === 'keep'));
      if (todo.length === 0) return;
      out.info(`plan: ${steps.map((s) => (s.kind === 'service' && s.action === 'keep' ? `${s.service} (ready)` : label(s))).join(' → ')}`);
    },
    onStepStart: (step) => out.info(`${c.cyan('▸')} ${describeStep(step)}`),
    onStepProgress: (step, message) => out.info(`  ${step ? `${label(step)}: ` : ''}${message}`),
    onStepDone: (step, seconds) =>
      out.info(`${c.green('✔')} ${step.kind === 'service' ? `${step.service} ready` : `${label(step)} done`} ${c.dim(`(${seconds.toFixed(1)}s)`)}`),
    onStepFailed: (step) => out.info(`${c.red('✖')} ${describeStep(step)} failed`),
    onNote: (message) => out.warn(message),
  };
}
