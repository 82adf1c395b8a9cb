import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../lib/errors.js';
import { type ConnectorSpec, parseConnectorFile } from './spec.js';

/** The package's own connector files. */
export function packagedConnectorDir(): string {
  return fileURLToPath(new URL('../../kafka-connectors/', import.meta.url));
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
}

/** `./kafka-connectors/` when the current directory has one (a project's own files), else the packaged one. */
export async function connectorDir(cwd: string): Promise<string> {
  const local = path.join(cwd, 'kafka-connectors');
  return (await isDirectory(local)) ? local : packagedConnectorDir();
}

/** Every `*.json` of the connector directory, in name order. */
export async function defaultConnectorFiles(cwd: string): Promise<string[]> {
  const dir = await connectorDir(cwd);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) {
    throw new UserError('NO_CONNECTOR_FILES', `${dir} has no connector files (*.json).`, { hint: 'Name the files: `outboxctl connectors register FILE…`.' });
  }
  return files.map((f) => path.join(dir, f));
}

/** A path as shown to the user: relative to the current directory when it lies below it. */
export function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Reads and renders connector files; a missing or malformed file is one sentence naming it. */
export async function loadConnectorFiles(files: string[], cwd: string, vars: Record<string, string>): Promise<ConnectorSpec[]> {
  const specs: ConnectorSpec[] = [];
  for (const file of files) {
    const absolute = path.resolve(cwd, file);
    const shown = displayPath(absolute, cwd);
    const text = await readFile(absolute, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UserError(
        'CONNECTOR_FILE_MISSING',
        `Cannot read connector file ${shown}: ${error.code === 'ENOENT' ? 'no such file' : error.code === 'EISDIR' ? 'it is a directory' : error.message}.`,
        { cause: error },
      );
    });
    specs.push(parseConnectorFile(text, shown, vars));
  }
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const other = seen.get(spec.name);
    if (other)
      throw new UserError('CONNECTOR_NAME_TWICE', `${other} and ${spec.file} both define connector "${spec.name}".`, {
        hint: 'Give each connector its own name.',
      });
    seen.set(spec.name, spec.file);
  }
  return specs;
}
