import { renderTable } from '../../lib/table.js';
import { runDoctor } from '../../stack/doctor.js';
import type { CommandContext } from '../context.js';

export default async function run(ctx: CommandContext): Promise<number> {
  const checks = await runDoctor(ctx.io.env, ctx.stack.home);
  const failed = checks.filter((c) => c.required && !c.ok);
  if (ctx.json) ctx.out.document({ ok: failed.length === 0, checks });
  else {
    const c = ctx.out.color;
    ctx.out.result(
      renderTable(checks, [
        { header: '', value: (x) => (x.ok ? c.green('✔') : x.required ? c.red('✖') : c.yellow('!')) },
        { header: 'CHECK', value: (x) => x.name },
        { header: 'FOUND', value: (x) => x.found ?? (x.ok ? 'ok' : 'not found') },
        { header: 'FIX', value: (x) => x.fix ?? '' },
      ]),
    );
    if (failed.length) ctx.out.info(`${failed.length} required check${failed.length > 1 ? 's' : ''} failed: ${failed.map((f) => f.name).join(', ')}.`);
  }
  return failed.length === 0 ? 0 : 1;
}
