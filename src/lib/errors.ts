/**
 * Typed errors. Only the CLI entry point turns them into output and an exit code;
 * everything else throws.
 */
export type ErrorKind = 'user' | 'usage' | 'environment' | 'external' | 'bug';

export interface CliErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra lines printed after the message (e.g. a log tail); kept out of JSON `message`. */
  details?: string[];
}

export class CliError extends Error {
  readonly hint?: string;
  readonly details?: string[];
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options: CliErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): number {
    return this.kind === 'usage' ? 2 : 1;
  }
}

/** Bad input or a state the user can fix: message + hint, never a stack. */
export class UserError extends CliError {
  constructor(code: string, message: string, options?: CliErrorOptions) {
    super('user', code, message, options);
  }
}

/** Unknown command/flag or an invalid flag value: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super('usage', 'USAGE', message, options);
  }
}

/** Something missing or unreachable on this machine (a database, a binary). */
export class EnvironmentError extends CliError {
  constructor(code: string, message: string, options?: CliErrorOptions) {
    super('environment', code, message, options);
  }
}

/** A child process failed; carries the command line. */
export class ExternalCommandError extends CliError {
  constructor(
    readonly command: string,
    message: string,
    options?: CliErrorOptions,
  ) {
    super('external', 'EXTERNAL_COMMAND_FAILED', message, options);
  }
}

/** Anything that is not a CliError is a bug: the only kind rendered with a stack. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const bug = new CliError('bug', 'INTERNAL', `Unexpected error: ${message}`, {
    hint: 'This is a bug in outboxctl; please report it with the output of --verbose.',
    cause: error,
  });
  if (error instanceof Error && error.stack) bug.stack = error.stack;
  return bug;
}
