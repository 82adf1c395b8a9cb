import { Box, render, Text } from 'ink';
import type React from 'react';
import { useEffect, useState } from 'react';
import { describeStep, type Step } from '../stack/plan.js';
import type { UpEvents } from '../stack/up.js';

export type RowState = 'pending' | 'running' | 'done' | 'failed' | 'kept';

export interface UpRow {
  /** Unique per step (it is the key of its line). */
  label: string;
  state: RowState;
  seconds?: number;
  detail?: string;
}

export interface UpModel {
  rows: UpRow[];
  notes: string[];
  /** Latest message per subject that belongs to no step: one line per image pull or build, per Maven set. */
  activity?: Record<string, string>;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function Spinner(): React.JSX.Element {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), 80);
    return () => clearInterval(timer);
  }, []);
  return <Text color="cyan">{FRAMES[frame]}</Text>;
}

/** One line per step: spinner while it runs, then ready with its seconds, or the failure. */
export function UpView({ model }: { model: UpModel }): React.JSX.Element {
  return (
    <Box flexDirection="column">
      {model.notes.map((note) => (
        <Text key={note} color="yellow">
          ! {note}
        </Text>
      ))}
      {model.rows.map((row) => (
        <Box key={row.label} gap={1}>
          {row.state === 'running' ? (
            <Spinner />
          ) : (
            <Text color={row.state === 'failed' ? 'red' : row.state === 'pending' ? 'gray' : 'green'}>
              {row.state === 'failed' ? '✖' : row.state === 'pending' ? '·' : '✔'}
            </Text>
          )}
          <Text>{row.label}</Text>
          {row.seconds !== undefined ? <Text dimColor>{`${row.seconds.toFixed(1)}s`}</Text> : null}
          {row.detail ? <Text dimColor>{row.detail}</Text> : null}
        </Box>
      ))}
      {Object.entries(model.activity ?? {}).map(([subject, message]) => (
        <Text key={subject} dimColor>
          {message}
        </Text>
      ))}
    </Box>
  );
}

/** What a progress line is about: the service of an image ("kafka: pulling …"), the Maven set ("resolving kafka-4.3.1: …"). */
export function activitySubject(message: string): string {
  return message.replace(/^resolved /, 'resolving ').split(':')[0]!;
}

/** `up` events that drive the ink view on stderr; `done()` leaves the last frame. */
export function inkUpEvents(): { events: UpEvents; done(): void } {
  const model: UpModel = { rows: [], notes: [] };
  const index = new Map<Step, number>();
  const instance = render(<UpView model={model} />, { stdout: process.stderr, patchConsole: false, exitOnCtrlC: false });
  const update = () => instance.rerender(<UpView model={{ ...model, rows: [...model.rows] }} />);
  const row = (step: Step, change: Partial<UpRow>) => {
    const i = index.get(step);
    if (i !== undefined) model.rows[i] = { ...model.rows[i]!, ...change };
    update();
  };
  return {
    events: {
      onPlan: (steps) => {
        steps.forEach((step, i) => {
          index.set(step, i);
          model.rows.push({ label: describeStep(step), state: step.kind === 'service' && step.action === 'keep' ? 'kept' : 'pending' });
        });
        update();
      },
      onReplan: (steps) => {
        // Rows of steps no longer planned go; new ones are added after what ran.
        const kept = model.rows.filter((_, i) => [...index.entries()].some(([s, at]) => at === i && steps.includes(s)));
        const keptSteps = steps.filter((s) => index.has(s));
        index.clear();
        for (const [i, s] of keptSteps.entries()) index.set(s, i);
        model.rows = kept;
        for (const step of steps.filter((s) => !index.has(s))) {
          index.set(step, model.rows.length);
          model.rows.push({ label: describeStep(step), state: 'pending' });
        }
        update();
      },
      onStepStart: (step) => row(step, { state: 'running' }),
      onStepProgress: (step, message) => {
        if (step) return row(step, { detail: message });
        model.activity = { ...model.activity, [activitySubject(message)]: message };
        update();
      },
      onStepDone: (step, seconds) => row(step, { state: 'done', seconds, detail: undefined }),
      onStepFailed: (step) => row(step, { state: 'failed' }),
      onNote: (message) => {
        // Notes are keyed by their text: a repeat says nothing new.
        if (!model.notes.includes(message)) model.notes.push(message);
        update();
      },
    },
    done: () => {
      model.activity = undefined;
      update();
      instance.unmount();
    },
  };
}
