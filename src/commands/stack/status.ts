import { renderTable } from '../../lib/table.js';
import { type ServiceStatus, stackStatus } from '../../stack/lifecycle.js';
import type { CommandContext } from '../context.js';

const mb = (bytes: number | null) => (bytes === null ? '' : `${Math.round(bytes / 2 ** 20)} MiB`);
const uptime = (s: number | null) => (s === null ? '' : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`);

export default async function run(ctx: CommandContext): Promise<number> {
  const status = await stackStatus(ctx.stack);
  const allReady = status.services.every((s) => s.state === 'ready');
  if (ctx.json) ctx.out.document(status);
  else {
    const c = ctx.out.color;
    const paint = (s: ServiceStatus) => (s.state === 'ready' ? c.green(s.state) : s.state === 'stopped' ? c.dim(s.state) : c.red(s.state));
    ctx.out.result(
      renderTable(status.services, [
        { header: 'SERVICE', value: (s) => s.name },
        { header: 'STATE', value: paint },
        { header: 'ID', value: (s) => s.id },
        { header: 'PORT', value: (s) => s.port },
        { header: 'VERSION', value: (s) => s.version },
        ...(status.services.some((s) => s.image) ? [{ header: 'IMAGE', value: (s: ServiceStatus) => s.image }] : []),
        { header: 'UPTIME', value: (s) => uptime(s.uptimeSeconds) },
        { header: 'MEMORY', value: (s) => mb(s.rssBytes) },
      ]) +
        (status.sink
          ? `\nsink: ${status.sink === 'embedded' ? 'embedded (service sink reads es-sink-connector.json)' : 'connect (connector elasticsearch-sink)'}`
          : ''),
    );
  }
  return ctx.flags.check === true && !allReady ? 1 : 0;
}
