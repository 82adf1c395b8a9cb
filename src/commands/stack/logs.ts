import { UsageError } from '../../lib/errors.js';
import { availableServices, parseServices } from '../../stack/components/index.js';
import type { ServiceName } from '../../stack/components/types.js';
import { followServiceLogs, serviceLogs } from '../../stack/logs.js';
import type { CommandContext } from '../context.js';

const COLORS = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red', 'white'] as const;

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  const services: ServiceName[] = names.length ? parseServices(names.join(','))! : availableServices();
  const tailRaw = ctx.flags.tail;
  const tail = tailRaw === undefined ? undefined : Number(tailRaw);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`--tail "${String(tailRaw)}" is not a number of lines.`);
  const logs = await serviceLogs(ctx.stack, services, { tail, named: names.length > 0 });
  if (logs.length === 0) {
    ctx.out.info(`No logs yet for stack "${ctx.stack.name}".`);
    return;
  }
  const width = Math.max(...logs.map((l) => l.service.length));
  const order = logs.map((l) => l.service);
  const prefix = (service: ServiceName) =>
    logs.length === 1 ? '' : `${ctx.out.color[COLORS[order.indexOf(service) % COLORS.length]!](service.padEnd(width))} | `;
  for (const { service, lines } of logs) for (const line of lines) ctx.io.stdout.write(`${prefix(service)}${line}\n`);
  if (ctx.flags.follow !== true) return;
  // Follow until Ctrl-C (the CLI's signal handler ends the process).
  await followServiceLogs(ctx.stack, order, (service, line) => ctx.io.stdout.write(`${prefix(service)}${line}\n`));
}
