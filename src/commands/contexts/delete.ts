import type { CommandContext } from '../context.js';

/** `outboxctl context delete NAME`: removes it; when it was current, there is no current context any more. */
export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const [{ edit, updateConfig }, { noSuchContext }] = await Promise.all([import('../../contexts/store.js'), import('../../contexts/select.js')]);
  const wasCurrent = await updateConfig(ctx.io.env, (config) => {
    if (config.contexts[name] === undefined) {
      throw noSuchContext(name, Object.keys(config.contexts));
    }
    edit.deleteContext(config, name);
    const current = config.current === name;
    if (current) edit.setCurrent(config, undefined);
    return current;
  });
  ctx.out.result(`Deleted context "${name}"${wasCurrent ? '; there is no current context now (the local stack)' : ''}.`);
}
