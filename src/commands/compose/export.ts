import path from 'node:path';
import { composeBuildContexts, composeDocument } from '../../compose/export.js';
import { missingBuildContexts, PACKAGE_COMPOSE_DIR, writeComposeFile } from '../../compose/file.js';
import type { CommandContext } from '../context.js';

/** `outboxctl compose export [--output FILE]`: the Compose file on stdout, or written to FILE. */
export default async function run(ctx: CommandContext): Promise<void> {
  const text = await composeDocument({ env: ctx.io.env });
  const output = ctx.flags.output;
  if (typeof output !== 'string' || output === '' || output === '-') {
    ctx.io.stdout.write(text);
    return;
  }
  const file = path.resolve(ctx.io.cwd, output);
  await writeComposeFile(file, text);
  ctx.out.success(`wrote ${output}`);
  for (const dir of missingBuildContexts(file, composeBuildContexts())) {
    ctx.out.warn(`${output} builds from ./${dir}, which is not beside it: copy ${path.join(PACKAGE_COMPOSE_DIR, dir)} there.`);
  }
}
