import type { Summary } from './stats.mjs';
export interface Step {
  name: string;
  seconds: number;
}
export function parseUpProgress(stderr: string): Step[];
export const CRITICAL_PATH: string[];
export function criticalPath(steps: Step[], path?: string[]): { steps: Step[]; seconds: number; missing: string[] };
export interface Runs {
  command?: string;
  times: number[];
  cpuMean: number | null;
  failedRuns: number;
  exitCode: number;
}
export function fromHyperfine(result: Record<string, unknown>): Runs;
export function mergeRuns(parts: Runs[]): { times: number[]; wall: Summary; cpu: Summary | null; failedRuns: number; exitCode: number };
export function durationMs(text: string): number | null;
export function refreshInterval(settingsResponse: unknown): { text: string; ms: number | null; source: string } | null;
