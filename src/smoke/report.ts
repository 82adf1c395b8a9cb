import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { EnvironmentError, UsageError, UserError } from '../lib/errors.js';

/** 2: `stack` may be null, with `context` and `documents`. */
export const SMOKE_REPORT_SCHEMA_VERSION = 2;

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  name: string;
  title: string;
  status: StepStatus;
  seconds: number;
  /** What the step saw (passed), why it failed, or why it did not run. */
  message: string;
  /** Only on failures: a wait ran out, an answer was wrong, or something could not be done at all. */
  failure?: 'timeout' | 'assertion' | 'error';
}

export interface SmokeReport {
  schemaVersion: number;
  /** The local stack the run used; null under a context. */
  stack: string | null;
  /** The context whose deployed pipeline the run used; null on a local stack. */
  context: string | null;
  startedAt: string;
  seconds: number;
  passed: boolean;
  steps: StepResult[];
  /** The parcel and events the run wrote, for looking them up afterwards (and all it leaves behind). */
  parcelId: string | null;
  eventIds: string[];
  /** The search-engine documents of that parcel the run saw: its events (id = event id) and its projection. */
  documents: { index: string; id: string }[];
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
const notXml = (code: number) => code <= 0x08 || code === 0x0b || code === 0x0c || (code >= 0x0e && code <= 0x1f) || code === 0xfffe || code === 0xffff;
const xmlSafe = (text: string) => Array.from(text, (ch) => (notXml(ch.codePointAt(0)!) ? '\uFFFD' : ch)).join('');

/** One `<testsuite>` with a `<testcase>` per step, as Jenkins, GitLab and GitHub's JUnit actions read it. */
export async function renderJunit(report: SmokeReport): Promise<string> {
  const { XMLBuilder } = await import('fast-xml-parser');
  const count = (status: StepStatus) => report.steps.filter((s) => s.status === status).length;
  // JUnit's <error> is what could not run (unreachable server, a bug); <failure> a check that did not hold.
  const errors = report.steps.filter((s) => s.status === 'failed' && s.failure === 'error').length;
  const failures = count('failed') - errors;
  const time = (seconds: number) => seconds.toFixed(3);
  const suite = {
    '@_name': 'outboxctl smoke',
    '@_tests': report.steps.length,
    '@_failures': failures,
    '@_errors': errors,
    '@_skipped': count('skipped'),
    '@_time': time(report.seconds),
    '@_timestamp': report.startedAt,
    '@_hostname': os.hostname(),
    properties: {
      property: [
        report.context === null ? { '@_name': 'stack', '@_value': report.stack } : { '@_name': 'context', '@_value': report.context },
        ...(report.parcelId ? [{ '@_name': 'parcelId', '@_value': report.parcelId }] : []),
        ...(report.eventIds.length > 0 ? [{ '@_name': 'eventIds', '@_value': report.eventIds.join(',') }] : []),
        ...(report.documents.length > 0 ? [{ '@_name': 'documents', '@_value': report.documents.map((d) => `${d.index}/${d.id}`).join(',') }] : []),
      ],
    },
    testcase: report.steps.map((s) => ({
      '@_name': s.name,
      '@_classname': 'outboxctl.smoke',
      '@_time': time(s.seconds),
      ...(s.status === 'failed'
        ? {
            [s.failure === 'error' ? 'error' : 'failure']: {
              '@_message': xmlSafe(s.message),
              '@_type': s.failure ?? 'error',
              '#text': xmlSafe(`${s.title}: ${s.message}`),
            },
          }
        : {}),
      ...(s.status === 'skipped' ? { skipped: { '@_message': xmlSafe(s.message) } } : {}),
      ...(s.status === 'passed' ? { 'system-out': xmlSafe(`${s.title}: ${s.message}`) } : {}),
    })),
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
  const body = builder.build({
    testsuites: {
      '@_name': 'outboxctl smoke',
      '@_tests': report.steps.length,
      '@_failures': failures,
      '@_errors': errors,
      '@_skipped': count('skipped'),
      '@_time': time(report.seconds),
      testsuite: suite,
    },
  }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

/** Checks before the run that the report can be written: a known format, a writable directory. */
export async function checkReportFile(file: string): Promise<void> {
  reportFormat(file);
  const dir = path.dirname(path.resolve(file));
  try {
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await access(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : 'is not writable';
    throw new UserError('REPORT_DIR', `Cannot write the report ${file}: its directory ${dir} ${why}.`, {
      hint: 'Create the directory first, or choose another --report path.',
    });
  }
}

/** Writes the report whole or not at all (a temporary file renamed into place). */
export async function writeReport(file: string, report: SmokeReport): Promise<void> {
  const text = reportFormat(file) === 'json' ? `${JSON.stringify(report, null, 2)}\n` : await renderJunit(report);
  try {
    await writeFileAtomic(file, text);
  } catch (error) {
    throw new EnvironmentError('REPORT_WRITE', `Cannot write the report ${file}: ${(error as Error).message}.`, { cause: error });
  }
}

/**
 * What the run's parcel left behind, as one line (undefined when no parcel was written): its row,
 * its events on parcel.outbox and the search-engine documents the steps saw.
 */
export function leftBehind(report: Pick<SmokeReport, 'parcelId' | 'eventIds' | 'documents'>): string | undefined {
  if (!report.parcelId) return undefined;
  const parts = [`parcel ${report.parcelId} (its row)`];
  if (report.eventIds.length > 0) parts.push(`events ${report.eventIds.join(', ')} on parcel.outbox`);
  if (report.documents.length > 0) parts.push(`documents ${report.documents.map((d) => `${d.index}/${d.id}`).join(', ')}`);
  return `left behind: ${parts.join('; ')}.`;
}
