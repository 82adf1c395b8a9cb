import { readFileSync } from 'node:fs';
import type { ContextSecret } from '../lib/config.js';
import { UsageError, UserError } from '../lib/errors.js';
import { resolvePath } from './paths.js';

/**
 * How a context names a secret. `env:VAR` and `file:PATH` are references, read when the endpoint is
 * used; anything else is the secret itself (a literal). Kafka's `${file:…}` / `${env:…}` config
 * provider placeholders are refused: a Connect worker resolves them, outboxctl never would.
 */
export type SecretRef = { kind: 'env'; name: string } | { kind: 'file'; path: string } | { kind: 'literal' };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONFIG_PROVIDER = /^\$\{[A-Za-z0-9_.-]+:.*\}$/s;

/** Where a secret was given, for messages: `--kafka-password`, `contexts.staging.kafka.sasl.password`. */
export type SecretWhere = string;

/**
 * Parses a secret as given on the command line or in the config file; a malformed reference is a
 * usage error naming `where` (never the text: it may be the secret).
 */
export function parseSecretRef(text: string, where: SecretWhere): SecretRef {
  if (text === '') throw new UsageError(`${where} is empty.`, { hint: 'Give env:VAR, file:PATH or the secret itself.' });
  if (CONFIG_PROVIDER.test(text)) {
    throw new UsageError(`${where} is a Kafka config provider placeholder (\${…:…}), which only a Connect worker resolves.`, {
      hint: 'Give env:VAR (an environment variable) or file:PATH (a file holding only the secret).',
    });
  }
  if (text.startsWith('env:')) {
    const name = text.slice(4);
    if (!ENV_NAME.test(name))
      throw new UsageError(`${where} is env:${name}, which is not an environment variable name.`, { hint: 'Use env:NAME with letters, digits and _.' });
    return { kind: 'env', name };
  }
  if (text.startsWith('file:')) {
    const file = text.slice(5);
    if (file === '') throw new UsageError(`${where} is file: without a path.`, { hint: 'Use file:PATH, e.g. file:/run/secrets/kafka-password.' });
    return { kind: 'file', path: file };
  }
  return { kind: 'literal' };
}

/** A secret as it may be shown: the reference text, or `****` for a literal. */
export function maskSecret(text: string): string {
  const ref = safeRef(text);
  return ref.kind === 'literal' ? '****' : text;
}

/** parseSecretRef without throwing: what cannot be parsed is shown as a literal (masked). */
function safeRef(text: string): SecretRef {
  try {
    return parseSecretRef(text, 'secret');
  } catch {
    return { kind: 'literal' };
  }
}

export interface SecretScope {
  /** The context's name, for messages. */
  context: string;
  /** The field in the config file: `kafka.sasl.password`. */
  field: string;
  env: NodeJS.ProcessEnv;
  /** Relative `file:` paths are relative to the config file's directory. */
  baseDir: string;
}

/** One trailing line break is the editor's, not the secret's. */
const trimLineBreak = (text: string) => text.replace(/\r?\n$/, '');

/**
 * A secret read only when its endpoint is used. A reference that cannot be read is one sentence
 * naming the context, the field and the reference, never a secret.
 */
export function contextSecret(text: string, scope: SecretScope): ContextSecret {
  const ref = parseSecretRef(text, `Context "${scope.context}": ${scope.field}`);
  const display = ref.kind === 'literal' ? '****' : text;
  const unreadable = (why: string, hint: string) =>
    new UserError('CONTEXT_SECRET_UNREADABLE', `Context "${scope.context}": ${scope.field} refers to ${display}, which ${why}.`, { hint });
  return {
    display,
    read: () => {
      if (ref.kind === 'literal') return text;
      if (ref.kind === 'env') {
        const value = scope.env[ref.name];
        if (value === undefined)
          throw unreadable('is not set', `Export ${ref.name} (or change ${scope.field} with \`outboxctl context create ${scope.context} --force …\`).`);
        if (value === '') throw unreadable('is empty', `Give ${ref.name} the secret.`);
        return value;
      }
      const file = resolvePath(ref.path, scope.baseDir, scope.env);
      let value: string;
      try {
        value = trimLineBreak(readFileSync(file, 'utf8'));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? 'does not exist'
            : code === 'EACCES'
              ? 'cannot be read (permission denied)'
              : code === 'EISDIR'
                ? 'is a directory'
                : 'cannot be read';
        throw unreadable(why, `Put the secret alone in ${file}, or point ${scope.field} elsewhere.`);
      }
      if (value === '') throw unreadable('is empty', `Put the secret in ${file}.`);
      return value;
    },
  };
}
