import { type CommandContext, stackStateOf } from '../context.js';
import { connectClient, loadSpecs } from './shared.js';

export default async function run(ctx: CommandContext, file: string): Promise<number> {
  const state = await stackStateOf(ctx);
  const [spec] = await loadSpecs(ctx, [file], state);
  const client = await connectClient(ctx, state);
  const [{ fieldErrors, findPlugin }, { fieldErrorLines, missingPluginError }] = await Promise.all([
    import('../../connectors/status.js'),
    import('../../connectors/register.js'),
  ]);
  const plugins = await client.plugins();
  const plugin = findPlugin(spec!.config['connector.class']!, plugins);
  if (!plugin) throw missingPluginError(spec!, client.url, plugins);
  const errors = fieldErrors(await client.validate(plugin.class, spec!.config));
  if (ctx.json) ctx.out.document({ name: spec!.name, file: spec!.file, class: plugin.class, valid: errors.length === 0, errors });
  else if (errors.length === 0) ctx.out.result(`${spec!.name} (${spec!.file}): valid for ${plugin.class} ${plugin.version}.`);
  else
    ctx.out.result(
      [
        `${spec!.name} (${spec!.file}): ${errors.length} invalid setting${errors.length === 1 ? '' : 's'}`,
        ...fieldErrorLines(errors).map((l) => `  ${l}`),
      ].join('\n'),
    );
  return errors.length ? 1 : 0;
}
