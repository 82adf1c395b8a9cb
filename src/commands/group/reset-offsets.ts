import { UsageError, UserError } from '../../lib/errors.js';
import { renderTable } from '../../lib/table.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

type Target = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint };

function parseTarget(flags: Record<string, unknown>): Target {
  const given = [flags.toEarliest === true && '--to-earliest', flags.toLatest === true && '--to-latest', flags.toOffset !== undefined && '--to-offset'].filter(Boolean);
  if (given.length !== 1) throw new UsageError(given.length ? `${given.join(' and ')} cannot be combined.` : 'Say where to move the offsets: --to-earliest, --to-latest or --to-offset N.');
  if (flags.toEarliest === true) return { kind: 'earliest' };
  if (flags.toLatest === true) return { kind: 'latest' };
  if (!/^\d+$/.test(String(flags.toOffset))) throw new UsageError(`--to-offset "${String(flags.toOffset)}" is not an offset.`);
  return { kind: 'offset', offset: BigInt(String(flags.toOffset)) };
}

export default async function run(ctx: CommandContext, group: string): Promise<void> {
  const target = parseTarget(ctx.flags);
  const topic = String(ctx.flags.topic);
  const execute = ctx.flags.execute === true;
  const plan = await withKafkaAdmin(ctx, async (admin) => {
    await admin.requireTopic(topic);
    const current = new Map((await admin.committedOffsets(group, topic)).map((c) => [c.partition, c.offset]));
    const rows = (await admin.watermarks(topic)).map((w) => {
      // As kafka-consumer-groups does, an offset outside the partition moves to its nearest end.
      const wanted = target.kind === 'earliest' ? w.low : target.kind === 'latest' ? w.high : target.offset;
      const next = wanted < w.low ? w.low : wanted > w.high ? w.high : wanted;
      const c = current.get(w.partition) ?? -1n;
      return { topic, partition: w.partition, current: c >= 0n ? Number(c) : null, next: Number(next) };
    });
    if (execute) {
      const detail = await admin.describeGroup(group);
      if (detail.members.length > 0) {
        throw new UserError('GROUP_ACTIVE', `Consumer group "${group}" has ${detail.members.length} active member${detail.members.length === 1 ? '' : 's'}; nothing was changed.`, { hint: 'Stop its consumers first (Kafka only moves the offsets of an empty group).' });
      }
      await admin.setOffsets(group, topic, rows.map((r) => ({ partition: r.partition, offset: BigInt(r.next) })));
    }
    return rows;
  });
  if (ctx.json) {
    ctx.out.document({ group, topic, executed: execute, offsets: plan });
    return;
  }
  ctx.out.result(
    renderTable(plan, [
      { header: 'TOPIC', value: (r) => r.topic },
      { header: 'PARTITION', value: (r) => r.partition },
      { header: 'CURRENT', value: (r) => r.current ?? '-' },
      { header: 'NEW', value: (r) => r.next },
    ]),
  );
  if (execute) ctx.out.success(`Moved the offsets of group ${group} on ${topic}.`);
  else ctx.out.info('Dry run: nothing changed. Pass --execute to move the offsets.');
}
