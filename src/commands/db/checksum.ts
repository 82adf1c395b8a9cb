import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../lib/errors.js';
import { flywayChecksum } from '../../migrations/checksum.js';
import type { CommandContext } from '../context.js';

export default async function run(ctx: CommandContext, ...files: string[]): Promise<void> {
  const results: { file: string; checksum: number }[] = [];
  for (const file of files) {
    const full = path.resolve(ctx.io.cwd, file);
    const content = await readFile(full).catch((error: NodeJS.ErrnoException) => {
      throw new UserError('FILE_NOT_READABLE', `Cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}.`, {
        hint: 'Give the path of a migration script.',
      });
    });
    results.push({ file, checksum: flywayChecksum(content) });
  }
  if (ctx.json) {
    ctx.out.document(results.length === 1 ? results[0] : results);
    return;
  }
  for (const r of results) ctx.out.result(files.length === 1 ? String(r.checksum) : `${r.checksum}  ${r.file}`);
}
