import { UsageError } from '../lib/errors.js';
import { LOCAL } from './names.js';

export const CONTEXT_ENV = 'OUTBOXCTL_CONTEXT';

/** Which context a command asked for, before the config file is read. */
export type ContextRequest = { kind: 'local' } | { kind: 'named'; name: string; from: '--context' | typeof CONTEXT_ENV } | { kind: 'file' };

/** `--context NAME` > OUTBOXCTL_CONTEXT > the file's current-context; `local` is none (the local stack). */
export function requestedContext(flag: unknown, env: NodeJS.ProcessEnv): ContextRequest {
  if (typeof flag === 'string' && flag !== '') return flag === LOCAL ? { kind: 'local' } : { kind: 'named', name: flag, from: '--context' };
  const fromEnv = env[CONTEXT_ENV];
  if (fromEnv) return fromEnv === LOCAL ? { kind: 'local' } : { kind: 'named', name: fromEnv, from: CONTEXT_ENV };
  return { kind: 'file' };
}

/**
 * The name of the context to use, or undefined for the local stack. A name that is not in the
 * file is one sentence saying where it came from and listing the contexts there are.
 */
export function selectContext(request: ContextRequest, current: string | undefined, known: string[], file: string): string | undefined {
  if (request.kind === 'local') return undefined;
  const name = request.kind === 'named' ? request.name : current;
  if (name === undefined) return undefined;
  if (known.includes(name)) return name;
  throw noSuchContext(name, known, {
    from: request.kind === 'named' ? request.from : `current-context of ${file}`,
    hint:
      request.kind === 'file'
        ? '`outboxctl context use NAME` picks another, `outboxctl context use local` goes back to the local stack.'
        : '`outboxctl context create NAME …` creates one; --context local is the local stack.',
  });
}

/** A context name that is not in the file: one sentence listing the ones there are. */
export function noSuchContext(name: string, known: string[], options: { from?: string; hint?: string } = {}): UsageError {
  const list = known.length ? `the contexts are ${[...known].sort().join(', ')}` : 'there are no contexts yet';
  return new UsageError(`Context "${name}"${options.from ? ` (from ${options.from})` : ''} does not exist: ${list}.`, {
    hint: options.hint ?? '`outboxctl context list` lists them; `outboxctl context create NAME …` creates one.',
  });
}
