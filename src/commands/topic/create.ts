import { UsageError, UserError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

function positiveInt(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} "${String(value)}" is not a positive whole number.`);
  return n;
}

/** `-c key=value` (or `-H`) entries → a map; a malformed entry is a usage error. */
export function parseConfigs(entries: string[] = [], flag = '-c'): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const entry of entries) {
    const i = entry.indexOf('=');
    if (i <= 0)
      throw new UsageError(`${flag} "${entry}" is not key=value.`, { hint: `e.g. ${flag} ${flag === '-c' ? 'retention.ms=86400000' : 'source=demo'}` });
    configs[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return configs;
}

export default async function run(ctx: CommandContext, name: string): Promise<void> {
  const partitions = positiveInt(ctx.flags.partitions, '--partitions', 1);
  const replicationFactor = positiveInt(ctx.flags.replicationFactor, '--replication-factor', 1);
  const configs = parseConfigs(ctx.flags.config as string[] | undefined);
  const created = await withKafkaAdmin(ctx, async (admin) => {
    if (await admin.exists(name)) {
      if (ctx.flags.ifNotExists === true) return false;
      throw new UserError('TOPIC_EXISTS', `Topic "${name}" already exists.`, { hint: 'Pass --if-not-exists to accept an existing topic.' });
    }
    const { kafkaReason } = await import('../../clients/kafka.js');
    return admin.create(name, partitions, replicationFactor, configs).catch((error: unknown) => {
      throw new UserError('TOPIC_CREATE_FAILED', `Kafka refused to create topic "${name}": ${kafkaReason(error)}.`, { cause: error });
    });
  });
  ctx.out.print({ topic: name, created, partitions, replicationFactor, configs }, () =>
    created
      ? `Created topic ${name} (${partitions} partition${partitions === 1 ? '' : 's'}, replication factor ${replicationFactor}).`
      : `Topic ${name} already exists; nothing to do.`,
  );
}
