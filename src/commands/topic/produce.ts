import { UsageError } from '../../lib/errors.js';
import { produce } from '../../topics/produce.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';
import { parseConfigs } from './create.js';

export default async function run(ctx: CommandContext, topic: string): Promise<void> {
  const headers = parseConfigs(ctx.flags.header as string[] | undefined, '-H');
  const key = typeof ctx.flags.key === 'string' ? ctx.flags.key : null;
  const value = typeof ctx.flags.value === 'string' ? ctx.flags.value : undefined;
  const separator = typeof ctx.flags.keySeparator === 'string' ? ctx.flags.keySeparator : undefined;
  let partition: number | undefined;
  if (ctx.flags.partition !== undefined) {
    partition = Number(ctx.flags.partition);
    if (!Number.isInteger(partition) || partition < 0) throw new UsageError(`--partition "${String(ctx.flags.partition)}" is not a partition number.`);
  }
  if (value !== undefined && separator !== undefined) throw new UsageError('--key-separator applies to stdin lines; with --value use --key.');
  const sent = await withKafkaAdmin(ctx, (admin) => produce(admin, { topic, key, headers, value, separator, partition }, ctx.io.stdin));
  ctx.out.print({ topic, records: sent }, () => `Produced ${sent} record${sent === 1 ? '' : 's'} to ${topic}.`);
}
