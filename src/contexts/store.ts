import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { UserError } from '../lib/errors.js';
import { configFile } from './paths.js';
import { CONFIG_VERSION, configSchema, firstIssue, type StoredConfig, type StoredContext } from './schema.js';

/** The config file as read: its path, its YAML document (comments kept for writing back) and its contents. */
export interface ContextConfig {
  file: string;
  exists: boolean;
  doc: Document;
  current: string | undefined;
  contexts: Record<string, StoredContext>;
}

/** `a.b.c`, as a field is named in messages. */
export const fieldName = (keys: (string | number)[]) => keys.map(String).join('.');

/**
 * Parses the config file's text: a YAML error or a schema problem is one sentence naming the file,
 * the line and the field — never the line's text, which may hold a secret.
 */
export function parseConfig(text: string, file: string): ContextConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined) => (offset === undefined ? '' : ` line ${lines.linePos(offset).line}`);
  const [yamlError] = doc.errors;
  if (yamlError) {
    const what =
      yamlError.code === 'DUPLICATE_KEY'
        ? 'a key appears twice in one mapping'
        : `it is not valid YAML (${yamlError.message.split('\n')[0]!.replace(/\.$/, '')})`;
    throw invalid(`${file}${lineAt(yamlError.pos[0])}: ${what}.`);
  }
  const data = (doc.toJS() ?? {}) as unknown;
  const issue = firstIssue(configSchema, data);
  if (issue) {
    const offset = keyOffset(doc, issue.path);
    const field = issue.path.length ? fieldName(issue.path) : 'the document';
    throw invalid(`${file}${lineAt(offset)}: ${field} ${issue.message}.`);
  }
  const config = data as StoredConfig;
  return { file, exists: true, doc, current: config['current-context'] ?? undefined, contexts: config.contexts ?? {} };
}

/** Where the key of a field is, or of the nearest mapping that holds it (for a missing key). */
function keyOffset(doc: Document, keys: (string | number)[]): number | undefined {
  for (let n = keys.length; n >= 1; n--) {
    const parent = n === 1 ? doc.contents : doc.getIn(keys.slice(0, n - 1), true);
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === keys[n - 1]);
    if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
  }
  return (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
}

const invalid = (message: string) =>
  new UserError('CONTEXT_CONFIG_INVALID', message, {
    hint: 'Fix the file by hand (docs/contexts.md describes it); `--context local` works on the local stack meanwhile.',
  });

/** Reads the config file; one that does not exist is an empty config. */
export async function loadConfig(env: NodeJS.ProcessEnv): Promise<ContextConfig> {
  const file = configFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UserError('CONTEXT_CONFIG_UNREADABLE', `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {
        hint: 'Check its permissions: it should be yours, mode 0600.',
      });
    }
    const doc = parseDocument(`version: ${CONFIG_VERSION}\n`);
    return { file, exists: false, doc, current: undefined, contexts: {} };
  }
  return parseConfig(text, file);
}

/** The edits `context create|use|delete` make; comments and the order of the rest are kept. */
export const edit = {
  setContext(config: ContextConfig, name: string, stored: StoredContext): void {
    if (!config.doc.has('contexts') || config.doc.get('contexts') === null) config.doc.set('contexts', config.doc.createNode({}));
    config.doc.setIn(['contexts', name], config.doc.createNode(stored));
    config.contexts = { ...config.contexts, [name]: stored };
  },
  deleteContext(config: ContextConfig, name: string): void {
    config.doc.deleteIn(['contexts', name]);
    const { [name]: _gone, ...rest } = config.contexts;
    config.contexts = rest;
  },
  setCurrent(config: ContextConfig, name: string | undefined): void {
    if (name === undefined) config.doc.delete('current-context');
    else config.doc.set('current-context', name);
    config.current = name;
  },
};

/**
 * Read, change and write the config file under a lock (two `context create` never lose one
 * another's context): directory 0700, file 0600, written atomically.
 */
export async function updateConfig<T>(env: NodeJS.ProcessEnv, change: (config: ContextConfig) => T | Promise<T>): Promise<T> {
  const file = configFile(env);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // An existing directory keeps whatever mode it was made with: this one holds secrets.
  await chmod(dir, 0o700);
  const release = await lockfile
    .lock(dir, { lockfilePath: `${file}.lock`, stale: 10_000, retries: { retries: 40, minTimeout: 50, maxTimeout: 500 } })
    .catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      throw new UserError('CONTEXT_CONFIG_LOCKED', `${file} is locked by another outboxctl command.`, { hint: 'Wait for it to finish and try again.' });
    });
  try {
    const config = await loadConfig(env);
    const result = await change(config);
    if (!config.doc.has('version')) config.doc.set('version', CONFIG_VERSION);
    await writeFileAtomic(file, String(config.doc), 0o600);
    // A file that existed before keeps the new file's mode: the rename replaced it.
    await chmod(file, 0o600);
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}
