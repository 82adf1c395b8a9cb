import { Chalk, type ChalkInstance } from 'chalk';
import type { CliError } from './errors.js';

export { type Io, processIo, type Stream } from './io.js';

import type { Io, Stream } from './io.js';

/** Colour only on a TTY, never with NO_COLOR (any value) or in --json mode. */
export function colorLevel(stream: Stream, env: NodeJS.ProcessEnv, json: boolean): 0 | 1 | 2 | 3 {
  if (json || 'NO_COLOR' in env || !stream.isTTY) return 0;
  if (env.FORCE_COLOR === '0') return 0;
  return env.COLORTERM === 'truecolor' ? 3 : 2;
}

/**
 * Results go to stdout, everything else (progress, warnings, errors) to stderr.
 * In --json mode stdout carries exactly one JSON document.
 */
export class Output {
  readonly color: ChalkInstance;
  readonly errColor: ChalkInstance;

  constructor(
    readonly io: Io,
    readonly json = false,
  ) {
    this.color = new Chalk({ level: colorLevel(io.stdout, io.env, json) });
    this.errColor = new Chalk({ level: colorLevel(io.stderr, io.env, json) });
  }

  /** A line of result text on stdout (suppressed in --json mode: use `document`). */
  result(text: string): void {
    if (!this.json) this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Under --json the one document, otherwise the text `render` builds (only then: a JSON run renders no table). */
  print(document: unknown, render: () => string): void {
    if (this.json) this.document(document);
    else this.result(render());
  }

  /** The one JSON document of a --json run. */
  document(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  info(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }

  success(message: string): void {
    this.io.stderr.write(`${this.errColor.green('✔')} ${message}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`${this.errColor.yellow('warning:')} ${message}\n`);
  }

  /** Render an error: one sentence plus hint; a stack only for bugs or --verbose. */
  error(error: CliError, verbose: boolean): void {
    if (this.json) {
      this.document({ error: { code: error.code, message: error.message, hint: error.hint ?? null } });
      return;
    }
    const c = this.errColor;
    this.io.stderr.write(`${c.red('error:')} ${error.message}\n`);
    for (const line of error.details ?? []) this.io.stderr.write(`  ${line}\n`);
    if (error.hint) this.io.stderr.write(`${c.dim('hint:')} ${error.hint}\n`);
    if ((verbose || error.kind === 'bug') && error.kind !== 'usage') {
      const stack = stackOf(error.kind === 'bug' ? (error.cause ?? error) : error);
      if (stack) this.io.stderr.write(`${c.dim(stack)}\n`);
    }
  }
}

function stackOf(value: unknown): string | undefined {
  if (!(value instanceof Error)) return undefined;
  const cause = value.cause instanceof Error && value.cause.stack ? `\nCaused by: ${value.cause.stack}` : '';
  return `${value.stack ?? ''}${cause}`;
}
