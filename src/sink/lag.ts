import type { KafkaAdmin, Watermarks } from '../clients/kafka.js';
import { type CommittedOffset, groupLag } from '../groups/lag.js';
import type { Clock } from '../lib/clock.js';

/** How far the sink's group is behind the end of its topics, as `/health` reports it. */
export interface SinkLag {
  /** Records behind the topics' ends, over all partitions. */
  total: number;
  partitions: { topic: string; partition: number; committed: number | null; end: number; lag: number }[];
  /** When Kafka gave these offsets (ISO-8601): a stopped broker leaves the last reading in place. */
  measuredAt: string;
}

/** Pure: the sink group's lag, the same computation as `group describe` (groupLag), without members. */
export function sinkLag(committed: CommittedOffset[], watermarks: Map<string, Watermarks[]>, atMs: number): SinkLag {
  const { offsets, totalLag } = groupLag(committed, [], watermarks);
  return {
    total: totalLag,
    partitions: offsets.map(({ topic, partition, committed: c, end, lag }) => ({ topic, partition, committed: c, end, lag })),
    measuredAt: new Date(atMs).toISOString(),
  };
}

type LagAdmin = Pick<KafkaAdmin, 'committedOffsets' | 'watermarks' | 'close'>;

/** A read that has not answered after this long counts as an unreachable Kafka (a stopped broker never answers). */
const PENDING_UNREACHABLE_MS = 2_000;

/**
 * Reads the group's committed offsets and the topics' ends with an admin client, one read at a time:
 * a read that fails drops the client (the next read connects anew), the last good reading stays.
 */
export class LagProbe {
  latest?: SinkLag;
  lastError?: string;
  private admin?: LagAdmin;
  private pendingSince?: number;
  private ok = false;

  constructor(
    private readonly connect: () => Promise<LagAdmin>,
    private readonly group: string,
    private readonly topics: string[],
    private readonly clock: Clock,
  ) {}

  /** Starts a read unless one is still running. */
  poll(): void {
    if (this.pendingSince !== undefined) return;
    this.pendingSince = this.clock.now();
    void this.read().finally(() => {
      this.pendingSince = undefined;
    });
  }

  /** Kafka answered the last read, and no read has been waiting long. */
  reachable(): boolean {
    return this.ok && (this.pendingSince === undefined || this.clock.now() - this.pendingSince < PENDING_UNREACHABLE_MS);
  }

  async close(): Promise<void> {
    await this.admin?.close().catch(() => undefined);
    this.admin = undefined;
  }

  private async read(): Promise<void> {
    try {
      this.admin ??= await this.connect();
      const committed: CommittedOffset[] = [];
      const watermarks = new Map<string, Watermarks[]>();
      for (const topic of this.topics) {
        committed.push(...(await this.admin.committedOffsets(this.group, topic)));
        watermarks.set(topic, await this.admin.watermarks(topic));
      }
      this.latest = sinkLag(committed, watermarks, this.clock.now());
      this.ok = true;
      this.lastError = undefined;
    } catch (error) {
      this.ok = false;
      this.lastError = error instanceof Error ? error.message : String(error);
      await this.close();
    }
  }
}
