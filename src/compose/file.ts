import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { UserError } from '../lib/errors.js';
import { packagePath } from '../lib/template.js';

/** compose/ of the package: the checked-in file and the build contexts it names. */
export const PACKAGE_COMPOSE_DIR = packagePath('compose/');

/** Writes the file whole or not at all: a temporary file beside it, fsync, then rename over it. */
export async function writeComposeFile(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  if (!existsSync(dir)) {
    throw new UserError('OUTPUT_DIR_MISSING', `Cannot write ${file}: its directory ${dir} does not exist.`, {
      hint: 'Create the directory first, or choose another --output.',
    });
  }
  try {
    await writeFileAtomic(file, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write ${file}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message}.`,
      {
        hint: 'Choose another --output, or print to stdout and redirect it.',
        cause: error,
      },
    );
  }
}

/** The build contexts (`build: ./DIR`) a file written to `file` names but that do not exist beside it. */
export function missingBuildContexts(file: string, contexts: string[]): string[] {
  return contexts.filter((dir) => !existsSync(path.join(path.dirname(file), dir, 'Dockerfile')));
}
