import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';

/** `outboxctl context list`: every context with the endpoints it names, the current one marked. */
export default async function run(ctx: CommandContext): Promise<void> {
  const [{ loadConfig }, { namedEndpoints }] = await Promise.all([import('../../contexts/store.js'), import('../../contexts/targets.js')]);
  const config = await loadConfig(ctx.io.env);
  const rows = Object.entries(config.contexts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, stored]) => ({ name, current: name === config.current, endpoints: namedEndpoints(stored) }));
  ctx.out.print({ file: config.file, current: config.current ?? null, contexts: rows }, () =>
    rows.length === 0
      ? `No contexts in ${config.file}: commands work on the local stack.`
      : renderTable(rows, [
          { header: 'CURRENT', value: (r) => (r.current ? '*' : '') },
          { header: 'NAME', value: (r) => r.name },
          { header: 'ENDPOINTS', value: (r) => r.endpoints.join(', ') },
        ]),
  );
}
