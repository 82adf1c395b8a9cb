import { UserError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';

/** `outboxctl context create NAME …`: stores a context; `--use` makes it current, `--force` replaces one of that name. */
export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const [{ checkContextName, contextFromFlags }, { edit, updateConfig }, { namedEndpoints }] = await Promise.all([
    import('../../contexts/from-flags.js'),
    import('../../contexts/store.js'),
    import('../../contexts/targets.js'),
  ]);
  checkContextName(name);
  const { context, warnings } = contextFromFlags(ctx.flags, ctx.io.cwd, ctx.io.env);
  const use = ctx.flags.use === true;
  const { file, replaced } = await updateConfig(ctx.io.env, (config) => {
    const replaced = config.contexts[name] !== undefined;
    if (replaced && ctx.flags.force !== true) {
      throw new UserError('CONTEXT_EXISTS', `Context "${name}" already exists in ${config.file}.`, {
        hint: '--force replaces it; `outboxctl context show` shows it.',
      });
    }
    edit.setContext(config, name, context);
    if (use) edit.setCurrent(config, name);
    return { file: config.file, replaced };
  });
  for (const warning of warnings) ctx.out.warn(warning);
  ctx.out.result(
    `${replaced ? 'Replaced' : 'Created'} context "${name}" (${namedEndpoints(context).join(', ')}) in ${file}${use ? '; it is the current context' : ''}.`,
  );
}
