import type { ConfigValidation, ConnectorPlugin, ConnectorStatus } from '../clients/connect.js';

/** The line of a Java trace that says why: the last `Caused by:` line, else the first line. */
export function rootCause(trace: string | undefined): string | undefined {
  if (!trace) return undefined;
  const lines = trace
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const caused = lines.filter((l) => l.startsWith('Caused by:')).pop();
  return (caused ? caused.slice('Caused by:'.length).trim() : lines[0])?.replace(/\.$/, '');
}

/** `connector RUNNING, task 0 RUNNING` — what a wait reports as progress. */
export function summarizeStatus(status: ConnectorStatus | undefined): string {
  if (!status) return 'not known to Connect yet';
  const tasks = status.tasks.length ? status.tasks.map((t) => `task ${t.id} ${t.state}`).join(', ') : 'no tasks yet';
  return `connector ${status.connector.state}, ${tasks}`;
}

/** `RUNNING, 1 task` — a status in a result line. */
export function shortStatus(status: ConnectorStatus): string {
  const states = [...new Set(status.tasks.map((t) => t.state))];
  const tasks = `${status.tasks.length} task${status.tasks.length === 1 ? '' : 's'}`;
  return states.length === 0 || (states.length === 1 && states[0] === status.connector.state)
    ? `${status.connector.state}, ${tasks}`
    : `${status.connector.state}, ${tasks}: ${status.tasks.map((t) => `${t.id} ${t.state}`).join(', ')}`;
}

/** The first failure in a status: which part failed and the root cause of its trace. */
export function failureOf(status: ConnectorStatus): { part: string; cause: string } | undefined {
  if (status.connector.state === 'FAILED') return { part: `Connector "${status.name}"`, cause: rootCause(status.connector.trace) ?? 'no trace' };
  const task = status.tasks.find((t) => t.state === 'FAILED');
  return task ? { part: `Task ${task.id} of connector "${status.name}"`, cause: rootCause(task.trace) ?? 'no trace' } : undefined;
}

export interface FieldError {
  field: string;
  message: string;
}

/** Per-field errors of a validation answer, without Connect's "The 'x' value is invalid: " in front. */
export function fieldErrors(validation: ConfigValidation): FieldError[] {
  // Connect sends `value: null` for a definition it has no value report for.
  return validation.configs.flatMap(({ value }) => {
    if (!value) return [];
    const prefix = `The '${value.name}' value is invalid: `;
    return value.errors.map((message) => ({
      field: value.name,
      message: (message.startsWith(prefix) ? message.slice(prefix.length) : message).replace(/\.$/, ''),
    }));
  });
}

/** Whether a `connector.class` (full name or Connect's short alias) names an installed plugin. */
export function findPlugin(connectorClass: string, plugins: ConnectorPlugin[]): ConnectorPlugin | undefined {
  return plugins.find(
    (p) => p.class === connectorClass || p.class.split('.').pop() === connectorClass || p.class.split('.').pop() === `${connectorClass}Connector`,
  );
}
