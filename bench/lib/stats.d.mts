export interface Summary {
  n: number;
  median: number | null;
  p95: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}
export function sorted(xs: readonly number[]): number[];
export function median(xs: readonly number[]): number | null;
export function percentile(xs: readonly number[], p: number): number | null;
export function mean(xs: readonly number[]): number | null;
export function summarize(xs: readonly number[], options?: { percentiles?: boolean }): Summary;
export function ratio(a: unknown, b: unknown): number | null;
export function scale(summary: Summary, factor: number): Summary;
