import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type KafkaClient, leaveGroup } from '../clients/kafka.js';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { retry } from '../lib/retry.js';

/** The member id the sink last had in its group, or undefined when none was recorded. */
export async function readMemberId(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Records the member id, so that the next sink process can leave the group for this one if it dies. */
export async function writeMemberId(file: string, memberId: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${memberId}\n`);
}

/**
 * Takes a member that died without leaving (a killed sink, a consumer kafkajs restarted after losing
 * its broker) out of the group, so that the rebalance of its successor need not wait out its session.
 * Retries while the coordinator is unreachable or loading, until `deadlineMs`; resolves true when it
 * was removed, false when the group no longer had it.
 */
export async function leaveForDeadMember(
  client: KafkaClient,
  groupId: string,
  memberId: string,
  options: { deadlineMs: number; signal: AbortSignal },
): Promise<boolean> {
  return retry(() => leaveGroup(client, groupId, memberId), {
    deadlineMs: options.deadlineMs,
    initialDelayMs: 200,
    maxDelayMs: 1_000,
    signal: options.signal,
  });
}
