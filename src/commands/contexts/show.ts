import { UsageError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';

/**
 * `outboxctl context show [NAME]`: a context as stored, its secrets masked (a reference as its
 * text, a literal as `****`); without NAME the one --context, OUTBOXCTL_CONTEXT or current-context selects.
 */
export default async function run(ctx: CommandContext, name?: string): Promise<void> {
  const [{ loadConfig }, { maskedContext }, { noSuchContext, requestedContext, selectContext }, { stringify }] = await Promise.all([
    import('../../contexts/store.js'),
    import('../../contexts/targets.js'),
    import('../../contexts/select.js'),
    import('yaml'),
  ]);
  const config = await loadConfig(ctx.io.env);
  const known = Object.keys(config.contexts);
  const selected = name ?? selectContext(requestedContext(ctx.flags.context, ctx.io.env), config.current, known, config.file);
  if (selected === undefined) {
    throw new UsageError('No context is selected: commands work on the local stack.', {
      hint: 'Name one (`outboxctl context show NAME`); `outboxctl context list` lists them.',
    });
  }
  const stored = config.contexts[selected];
  if (stored === undefined) {
    throw noSuchContext(selected, known);
  }
  const masked = maskedContext(stored);
  ctx.out.print(
    { name: selected, current: selected === config.current, file: config.file, ...masked },
    () => `# context ${selected}${selected === config.current ? ' (current)' : ''} in ${config.file}; secrets masked\n${stringify(masked).trimEnd()}`,
  );
}
