export const ROWS: { n: number; name: string }[];
export const USAGE: string;
export class UsageError extends Error {}
export interface Options {
  short: boolean;
  only: Set<string> | null;
  json: string | null;
  markdown: string | null;
  fromJson: string | null;
  help: boolean;
}
export function parseArgs(argv: string[]): Options;
export function selectRows(options: Pick<Options, 'short' | 'only'>): string[];
