import type { CommandContext } from '../context.js';

/** `outboxctl context use NAME`: the current context; `local` clears it (the local stack again). */
export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const [{ edit, updateConfig }, { LOCAL }, { noSuchContext }] = await Promise.all([
    import('../../contexts/store.js'),
    import('../../contexts/names.js'),
    import('../../contexts/select.js'),
  ]);
  const file = await updateConfig(ctx.io.env, (config) => {
    if (name === LOCAL) edit.setCurrent(config, undefined);
    else if (config.contexts[name] === undefined) {
      throw noSuchContext(name, Object.keys(config.contexts));
    } else edit.setCurrent(config, name);
    return config.file;
  });
  ctx.out.result(name === LOCAL ? `No current context: commands work on the local stack (${file}).` : `Context "${name}" is current (${file}).`);
}
