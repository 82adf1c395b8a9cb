import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../lib/errors.js';
import { availableServices, parseServices } from '../../stack/components/index.js';
import type { ServiceName } from '../../stack/components/types.js';
import { tailFile } from '../../stack/process.js';
import { serviceLogFile } from '../../stack/runtimes/native.js';
import type { CommandContext } from '../context.js';

const COLORS = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red', 'white'] as const;

export default async function run(ctx: CommandContext, ...names: string[]): Promise<void> {
  const services: ServiceName[] = names.length ? parseServices(names.join(','))! : availableServices();
  const tailRaw = ctx.flags.tail;
  const tail = tailRaw === undefined ? undefined : Number(tailRaw);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`--tail "${String(tailRaw)}" is not a number of lines.`);
  const files = services.map((s) => ({ service: s, file: serviceLogFile(ctx.stack, s) })).filter((f) => names.length > 0 || existsSync(f.file));
  if (files.length === 0) {
    ctx.out.info(`No logs yet for stack "${ctx.stack.name}".`);
    return;
  }
  const width = Math.max(...files.map((f) => f.service.length));
  const prefix = (service: ServiceName, i: number) => (files.length === 1 ? '' : `${ctx.out.color[COLORS[i % COLORS.length]!](service.padEnd(width))} | `);
  for (const [i, { service, file }] of files.entries()) {
    const lines = await tailFile(file, tail ?? Number.MAX_SAFE_INTEGER);
    for (const line of lines) ctx.io.stdout.write(`${prefix(service, i)}${line}\n`);
  }
  if (ctx.flags.follow !== true) return;
  // Follow: poll each file for appended bytes; lines of all services interleave as they come.
  const offsets = await Promise.all(files.map(async (f) => (await stat(f.file).catch(() => ({ size: 0 }))).size));
  const partial = files.map(() => '');
  for (;;) {
    for (const [i, f] of files.entries()) {
      const size = (await stat(f.file).catch(() => ({ size: 0 }))).size;
      if (size < offsets[i]!) offsets[i] = 0;
      if (size === offsets[i]) continue;
      const chunk = await new Promise<string>((resolve, reject) => {
        let text = '';
        createReadStream(f.file, { start: offsets[i], end: size - 1, encoding: 'utf8' })
          .on('data', (d) => (text += d))
          .on('end', () => resolve(text))
          .on('error', reject);
      });
      offsets[i] = size;
      const lines = (partial[i] + chunk).split('\n');
      partial[i] = lines.pop()!;
      for (const line of lines) ctx.io.stdout.write(`${prefix(f.service, i)}${line}\n`);
    }
    await sleep(250);
  }
}
