import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectClient, ConnectorStatus } from '../clients/connect.js';
import { UserError } from '../lib/errors.js';
import { failureOf, summarizeStatus } from './status.js';

export type TargetState = 'RUNNING' | 'PAUSED';

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** How long RUNNING must hold before it counts (a task can fail right after it started). */
  settleMs?: number;
  /** Called whenever what Connect reports changes. */
  onProgress?: (summary: string) => void;
  /** While waiting for RUNNING, a PAUSED or STOPPED connector ends the wait (default); false keeps waiting (a resume). */
  pausedIsFinal?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** A connector with no tasks counts as RUNNING once it has run this long (some create none). */
const NO_TASKS_GRACE_MS = 5_000;

function reached(status: ConnectorStatus, target: TargetState): boolean {
  if (status.connector.state !== target) return false;
  return target === 'PAUSED' ? status.tasks.every((t) => t.state === 'PAUSED' || t.state === 'FAILED') : status.tasks.every((t) => t.state === 'RUNNING');
}

/**
 * Polls the connector's status until it and all its tasks reach `target`. A FAILED part
 * ends the wait (while waiting for RUNNING) with the root cause of its trace; a connector
 * that is PAUSED or STOPPED while RUNNING is awaited ends it too and is returned as it is.
 */
export async function waitForState(client: ConnectClient, name: string, target: TargetState, options: WaitOptions): Promise<ConnectorStatus> {
  const now = options.now ?? Date.now;
  const pause = options.sleep ?? sleep;
  const started = now();
  let last: ConnectorStatus | undefined;
  let lastSummary = '';
  let reachedAt: number | undefined;
  for (;;) {
    last = await client.status(name);
    const summary = summarizeStatus(last);
    if (summary !== lastSummary) {
      options.onProgress?.(summary);
      lastSummary = summary;
    }
    if (last) {
      const failure = target === 'RUNNING' ? failureOf(last) : undefined;
      if (failure) {
        throw new UserError('CONNECTOR_FAILED', `${failure.part} failed: ${failure.cause}.`, {
          hint: `\`outboxctl connectors status ${name}\` shows the whole trace; fix the cause, then \`outboxctl connectors restart ${name} --include-tasks\`.`,
        });
      }
      if (target === 'RUNNING' && options.pausedIsFinal !== false && (last.connector.state === 'PAUSED' || last.connector.state === 'STOPPED')) return last;
      if (reached(last, target)) {
        reachedAt ??= now();
        const hold = last.tasks.length === 0 && target === 'RUNNING' ? NO_TASKS_GRACE_MS : (options.settleMs ?? 0);
        if (now() - reachedAt >= hold) return last;
      } else reachedAt = undefined;
    }
    if (now() - started >= options.timeoutMs) {
      throw new UserError(
        'CONNECTOR_WAIT_TIMEOUT',
        `Connector "${name}" did not reach ${target} within ${Math.round(options.timeoutMs / 1000)}s (last: ${summary}).`,
        {
          hint: `Look at \`outboxctl connectors status ${name}\` and \`outboxctl logs connect\`.`,
        },
      );
    }
    await pause(options.pollMs ?? 500);
  }
}
