import { UsageError } from '../../lib/errors.js';
import { availableServices, parseServices } from '../../stack/components/index.js';
import type { ServiceName } from '../../stack/components/types.js';
import { followServiceLogs, serviceLogs } from '../../stack/logs.js';
import { type CommandContext, refuseOnContext } from '../context.js';

const COLORS = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red', 'white'] as const;

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  refuseOnContext(ctx, 'logs');
  const services: ServiceName[] = names.length ? parseServices(names.join(','))! : availableServices();
  const tailRaw = ctx.flags.tail;
  const tail = tailRaw === undefined ? undefined : Number(tailRaw);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`--tail "${String(tailRaw)}" is not a number of lines.`);
  const follow = ctx.flags.follow === true;
  // Following reads the tails itself (so nothing is lost between tail and follow): here only which logs exist.
  const present = await serviceLogs(ctx.stack, services, { tail: follow ? 0 : tail, named: names.length > 0 });
  if (present.length === 0) {
    ctx.out.info(`No logs yet for stack "${ctx.stack.name}".`);
    return;
  }
  const order = present.map((l) => l.service);
  const width = Math.max(...order.map((s) => s.length));
  const prefix = (service: ServiceName) =>
    order.length === 1 ? '' : `${ctx.out.color[COLORS[order.indexOf(service) % COLORS.length]!](service.padEnd(width))} | `;
  const print = (service: ServiceName, line: string) => ctx.io.stdout.write(`${prefix(service)}${line}\n`);
  if (!follow) {
    for (const { service, lines } of present) for (const line of lines) print(service, line);
    return;
  }
  // Each service's tail, then what it writes, with nothing lost in between; until Ctrl-C (the CLI's handler ends the process).
  await followServiceLogs(ctx.stack, order, { tail: tail ?? Number.MAX_SAFE_INTEGER, onLine: print });
}
