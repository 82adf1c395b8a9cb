import type { GroupDetail, GroupMember, KafkaAdmin, Watermarks } from '../clients/kafka.js';
import { UserError } from '../lib/errors.js';

/** A group's committed offset on one partition, as `KafkaAdmin.committedOffsets` returns it (-1: nothing committed). */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** One partition of `group describe`. */
export interface PartitionLag {
  topic: string;
  partition: number;
  committed: number | null;
  end: number;
  lag: number;
  memberId: string | null;
}

/** What `group describe` prints (the --json document). */
export interface GroupLagReport {
  group: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMember[];
  offsets: PartitionLag[];
  totalLag: number;
}

/** Kafka reports -1 for a partition without a commit; such an entry is no commit at all. */
function realCommits(committed: CommittedOffset[]): CommittedOffset[] {
  return committed.filter((c) => c.offset >= 0n);
}

/** Pure: the topics a group is concerned with, committed on or assigned to a member, sorted. */
export function groupTopics(committed: CommittedOffset[], members: GroupMember[]): string[] {
  return [...new Set([...realCommits(committed).map((c) => c.topic), ...members.flatMap((m) => Object.keys(m.assignment))])].sort();
}

/**
 * Pure: committed offset, end and lag of every partition in `watermarks` (topic → its partitions),
 * in the order given, with the member the partition is assigned to.
 */
export function groupLag(
  committed: CommittedOffset[],
  members: GroupMember[],
  watermarks: Map<string, Watermarks[]>,
): { offsets: PartitionLag[]; totalLag: number } {
  const commits = realCommits(committed);
  const owner = new Map<string, string>();
  for (const m of members) for (const [t, ps] of Object.entries(m.assignment)) for (const p of ps) owner.set(`${t}/${p}`, m.memberId);
  const offsets: PartitionLag[] = [];
  for (const [topic, ends] of watermarks) {
    for (const w of ends) {
      const c = commits.find((x) => x.topic === topic && x.partition === w.partition)?.offset;
      offsets.push({
        topic,
        partition: w.partition,
        committed: c === undefined ? null : Number(c),
        end: Number(w.high),
        // Without a commit, the lag counts from the oldest record a reset would read.
        lag: Number(w.high - (c ?? w.low)),
        memberId: owner.get(`${topic}/${w.partition}`) ?? null,
      });
    }
  }
  return { offsets, totalLag: offsets.reduce((sum, o) => sum + o.lag, 0) };
}

/** Pure: Kafka describes any group id, even one never used, as Dead; only Dead and without commits is missing. */
export function groupMissing(detail: Pick<GroupDetail, 'state'>, committed: CommittedOffset[]): boolean {
  return detail.state === 'Dead' && realCommits(committed).length === 0;
}

/** Reads a group, its commits and the watermarks of its topics; throws GROUP_MISSING for a group that does not exist. */
export async function describeGroupLag(admin: Pick<KafkaAdmin, 'describeGroup' | 'committedOffsets' | 'watermarks'>, group: string): Promise<GroupLagReport> {
  const detail = await admin.describeGroup(group);
  const committed = await admin.committedOffsets(group);
  if (groupMissing(detail, committed)) {
    throw new UserError('GROUP_MISSING', `Consumer group "${group}" does not exist.`, { hint: 'See `outboxctl group list`.' });
  }
  const watermarks = new Map<string, Watermarks[]>();
  // A topic deleted since the group committed on it has no partitions left to report.
  for (const topic of groupTopics(committed, detail.members)) watermarks.set(topic, await admin.watermarks(topic).catch(() => []));
  return {
    group,
    state: detail.state,
    protocolType: detail.protocolType,
    protocol: detail.protocol,
    members: detail.members,
    ...groupLag(committed, detail.members, watermarks),
  };
}
