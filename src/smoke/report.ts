import { rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../lib/errors.js';

export const SMOKE_REPORT_SCHEMA_VERSION = 1;

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  name: string;
  title: string;
  status: StepStatus;
  seconds: number;
  /** What the step saw (passed), why it failed, or why it did not run. */
  message: string;
  /** `timeout` when a wait ran out, `error` for anything else; only on failures. */
  failure?: 'timeout' | 'error';
}

export interface SmokeReport {
  schemaVersion: number;
  stack: string;
  startedAt: string;
  seconds: number;
  passed: boolean;
  steps: StepResult[];
  /** The parcel and events the run wrote, for looking them up afterwards. */
  parcelId: string | null;
  eventIds: string[];
  /** What smoke started and stopped again (empty when it used a running stack or --keep). */
  stoppedAfter: string[];
}

export type ReportFormat = 'json' | 'junit';

/** The format of `--report FILE` from its extension. */
export function reportFormat(file: string): ReportFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.xml') return 'junit';
  throw new UsageError(`--report "${file}" must end in .json (a JSON report) or .xml (JUnit XML).`);
}

// XML 1.0 cannot carry most control characters, even escaped (a JUnit parser would reject the file).
const xmlSafe = (text: string) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');

/** One `<testsuite>` with a `<testcase>` per step, as Jenkins, GitLab and GitHub's JUnit actions read it. */
export async function renderJunit(report: SmokeReport): Promise<string> {
  const { XMLBuilder } = await import('fast-xml-parser');
  const count = (status: StepStatus) => report.steps.filter((s) => s.status === status).length;
  const time = (seconds: number) => seconds.toFixed(3);
  const suite = {
    '@_name': 'outboxctl smoke',
    '@_tests': report.steps.length,
    '@_failures': count('failed'),
    '@_errors': 0,
    '@_skipped': count('skipped'),
    '@_time': time(report.seconds),
    '@_timestamp': report.startedAt,
    '@_hostname': os.hostname(),
    properties: {
      property: [
        { '@_name': 'stack', '@_value': report.stack },
        ...(report.parcelId ? [{ '@_name': 'parcelId', '@_value': report.parcelId }] : []),
      ],
    },
    testcase: report.steps.map((s) => ({
      '@_name': s.name,
      '@_classname': 'outboxctl.smoke',
      '@_time': time(s.seconds),
      ...(s.status === 'failed' ? { failure: { '@_message': xmlSafe(s.message), '@_type': s.failure ?? 'error', '#text': xmlSafe(`${s.title}: ${s.message}`) } } : {}),
      ...(s.status === 'skipped' ? { skipped: { '@_message': xmlSafe(s.message) } } : {}),
      ...(s.status === 'passed' ? { 'system-out': xmlSafe(`${s.title}: ${s.message}`) } : {}),
    })),
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
  const body = builder.build({
    testsuites: { '@_name': 'outboxctl smoke', '@_tests': report.steps.length, '@_failures': count('failed'), '@_errors': 0, '@_skipped': count('skipped'), '@_time': time(report.seconds), testsuite: suite },
  }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

/** Writes the report whole or not at all (a temporary file renamed into place). */
export async function writeReport(file: string, report: SmokeReport): Promise<void> {
  const text = reportFormat(file) === 'json' ? `${JSON.stringify(report, null, 2)}\n` : await renderJunit(report);
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temporary, text);
  await rename(temporary, file);
}
