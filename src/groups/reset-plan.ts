import type { KafkaAdmin, Watermarks } from '../clients/kafka.js';
import { UsageError, UserError } from '../lib/errors.js';
import { type StartSpec, startPositions } from '../tail/start.js';
import type { CommittedOffset } from './lag.js';

/** Where `group reset-offsets` moves a group: the start positions tail knows, clamped the same way. */
export type ResetTarget = Extract<StartSpec, { kind: 'start' | 'end' | 'offset' }>;

/** One partition of the plan: the committed offset now (null: none) and the one it moves to. */
export interface ResetRow {
  topic: string;
  partition: number;
  current: number | null;
  next: number;
}

/** The target of --to-earliest, --to-latest or --to-offset N (exactly one). */
export function parseResetTarget(flags: { toEarliest?: unknown; toLatest?: unknown; toOffset?: unknown }): ResetTarget {
  const given = [flags.toEarliest === true && '--to-earliest', flags.toLatest === true && '--to-latest', flags.toOffset !== undefined && '--to-offset'].filter(
    Boolean,
  );
  if (given.length !== 1)
    throw new UsageError(
      given.length ? `${given.join(' and ')} cannot be combined.` : 'Say where to move the offsets: --to-earliest, --to-latest or --to-offset N.',
    );
  if (flags.toEarliest === true) return { kind: 'start' };
  if (flags.toLatest === true) return { kind: 'end' };
  if (!/^\d+$/.test(String(flags.toOffset))) throw new UsageError(`--to-offset "${String(flags.toOffset)}" is not an offset.`);
  return { kind: 'offset', offset: BigInt(String(flags.toOffset)) };
}

/**
 * Pure: the new offset of every partition of `topic`. As kafka-consumer-groups does, an offset
 * outside a partition moves to its nearest end; `committed` entries below 0 mean no commit.
 */
export function resetPlan(topic: string, target: ResetTarget, watermarks: Watermarks[], committed: CommittedOffset[]): ResetRow[] {
  const current = new Map(committed.filter((c) => c.topic === topic).map((c) => [c.partition, c.offset]));
  const next = startPositions(target, watermarks);
  return watermarks.map((w) => {
    const c = current.get(w.partition) ?? -1n;
    return { topic, partition: w.partition, current: c >= 0n ? Number(c) : null, next: Number(next.get(w.partition)!) };
  });
}

/** Plans the reset of `group` on `topic` and, with `execute`, commits it; throws GROUP_ACTIVE while the group has members. */
export async function resetOffsets(
  admin: Pick<KafkaAdmin, 'requireTopic' | 'committedOffsets' | 'watermarks' | 'describeGroup' | 'setOffsets'>,
  request: { group: string; topic: string; target: ResetTarget; execute: boolean },
): Promise<ResetRow[]> {
  const { group, topic } = request;
  await admin.requireTopic(topic);
  const committed = await admin.committedOffsets(group, topic);
  const plan = resetPlan(topic, request.target, await admin.watermarks(topic), committed);
  if (!request.execute) return plan;
  const { members } = await admin.describeGroup(group);
  if (members.length > 0) {
    throw new UserError(
      'GROUP_ACTIVE',
      `Consumer group "${group}" has ${members.length} active member${members.length === 1 ? '' : 's'}; nothing was changed.`,
      {
        hint: 'Stop its consumers first (Kafka only moves the offsets of an empty group).',
      },
    );
  }
  await admin.setOffsets(
    group,
    topic,
    plan.map((r) => ({ partition: r.partition, offset: BigInt(r.next) })),
  );
  return plan;
}
