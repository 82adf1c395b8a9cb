import type { Summary } from './stats.mjs';
export interface Row {
  n: string;
  name: string;
  figure: string;
  unit?: string;
  stats?: Partial<Summary> | null;
  cpu?: Partial<Summary> | null;
  peer?: { label: string; unit?: string; stats?: Partial<Summary> | null; cpu?: Partial<Summary> | null } | null;
  ratio?: { value: number | null; text: string } | null;
  target?: string;
  met?: boolean | null;
  notes?: string[];
  error?: string | null;
}
export interface Report {
  startedAt: string;
  seconds: number;
  options?: { short: boolean };
  machine?: Record<string, string>;
  rows: Row[];
  info?: string[];
}
export const COLUMNS: string[];
export function formatValue(value: unknown, unit?: string): string;
export function metText(met: boolean | null | undefined): string;
export function rowCells(row: Row): string[];
export function renderTable(rows: Row[]): string;
export function renderNotes(rows: Row[]): string;
export function markdownTable(rows: Row[]): string;
export function renderMarkdown(report: Report): string;
