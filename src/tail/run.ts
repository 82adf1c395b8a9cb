import { isUtf8 } from 'node:buffer';
import type { KafkaAdmin, KafkaBatch, KafkaClient, Watermarks } from '../clients/kafka.js';
import { type KafkaRecord, PartitionReader, type RecordSet, recordSetRecords, toKafkaRecord } from '../clients/kafka-reader.js';
import { RecordCursor } from '../clients/record-batch.js';
import { UsageError } from '../lib/errors.js';
import { type RenderOptions, renderRecord } from './format.js';
import { unwrapOutbox } from './outbox.js';
import { rawLines } from './raw.js';
import { type StartSpec, startPositions } from './start.js';

export interface TailOptions {
  topic: string;
  start?: StartSpec;
  /** Stop after this many printed records. */
  count?: number;
  /** Stop at the end of every partition as it was when the tail started. */
  exitAtEnd: boolean;
  render: RenderOptions;
  unwrap: boolean;
  aggregate?: string;
  group?: string;
  signal: AbortSignal;
  /** Writes a chunk of output; resolves when the stream can take more. */
  write(chunk: string | Uint8Array): Promise<void>;
  warn(message: string): void;
}

/** Filters, unwraps and renders records; counts what it printed. */
class Printer {
  printed = 0;
  private skipped = 0;
  private readonly cursor = new RecordCursor();
  constructor(private readonly options: TailOptions) {}

  /** Values printed as they are (`--format raw` without --pretty, --unwrap or --aggregate): copied from the batches, no record objects. */
  get copiesValues(): boolean {
    const { render, unwrap, aggregate } = this.options;
    return render.format.kind === 'raw' && !render.pretty && !unwrap && aggregate === undefined;
  }

  /**
   * A record set's lines as bytes, up to the count and `end` (the set's buffers are reused). A key
   * or value that is not UTF-8 gets replacement characters, as with every other format: the
   * separators are ASCII, so decoding the whole chunk does what decoding each value would.
   */
  renderRaw(set: RecordSet, end: bigint | undefined): Buffer[] {
    const limit = this.options.count === undefined ? Number.POSITIVE_INFINITY : this.options.count - this.printed;
    const { chunks, count } = rawLines(set, this.options.render.printKey, end, limit, this.cursor);
    this.printed += count;
    return chunks.map((c) => (isUtf8(c) ? c : Buffer.from(c.toString('utf8'))));
  }

  get full(): boolean {
    return this.options.count !== undefined && this.printed >= this.options.count;
  }

  /** The text of the records that pass, up to the count; `taken` = how many records were consumed. */
  render(records: KafkaRecord[]): { text: string; taken: number } {
    const { unwrap, aggregate, render } = this.options;
    let text = '';
    let taken = 0;
    for (const r of records) {
      if (this.full) break;
      taken++;
      let value = r.value === null ? null : r.value.toString('utf8');
      if (unwrap || aggregate !== undefined) {
        const event = unwrapOutbox(r);
        if (aggregate !== undefined && (event?.aggregateId ?? r.key?.toString('utf8')) !== aggregate) continue;
        if (unwrap) {
          if (!event) {
            if (this.skipped++ === 0)
              this.options.warn(`record ${r.partition}/${r.offset} is not an outbox event (no eventId field, no id header); skipping such records.`);
            continue;
          }
          value = JSON.stringify(event);
        }
      }
      text += renderRecord(r, value, render);
      this.printed++;
    }
    return { text, taken };
  }
}

/**
 * Prints a topic's records: without a group by reading partitions directly (no commits),
 * with --group as a member of that group, committing what was printed.
 */
export async function tail(admin: KafkaAdmin, kafka: KafkaClient, options: TailOptions): Promise<{ printed: number }> {
  // Without a group, the reader connects while the topic and its watermarks are looked up.
  const opening = options.group === undefined && options.count !== 0 ? PartitionReader.open(admin.target, options.topic) : undefined;
  opening?.catch(() => undefined);
  try {
    return await tailWith(admin, kafka, options, opening);
  } finally {
    // Unused (nothing to read, or the lookups failed): closed once it is open.
    void opening?.then((reader) => reader.close()).catch(() => undefined);
  }
}

async function tailWith(admin: KafkaAdmin, kafka: KafkaClient, options: TailOptions, opening?: Promise<PartitionReader>): Promise<{ printed: number }> {
  await admin.requireTopic(options.topic);
  if (options.group !== undefined && options.start !== undefined && options.start.kind !== 'start' && options.start.kind !== 'end') {
    throw new UsageError("--group reads from the group's committed offsets; --offset N|-N and --since cannot be combined with it.", {
      hint: `Move the group with \`outboxctl group reset-offsets ${options.group} --topic ${options.topic} …\`, or tail without --group.`,
    });
  }
  const watermarks = await admin.watermarks(options.topic);
  const ends = new Map(watermarks.map((w) => [w.partition, w.high]));
  const printer = new Printer(options);
  if (opening) await tailPartitions(admin, options, printer, watermarks, ends, opening);
  else if (options.group === undefined) return { printed: 0 };
  else await tailAsGroup(admin, kafka, options, printer, ends);
  return { printed: printer.printed };
}

async function tailPartitions(
  admin: KafkaAdmin,
  options: TailOptions,
  printer: Printer,
  watermarks: Watermarks[],
  ends: Map<number, bigint>,
  opening: Promise<PartitionReader>,
): Promise<void> {
  const spec = options.start ?? { kind: 'end' };
  const byTime = spec.kind === 'since' ? await admin.offsetsForTime(options.topic, spec.timestampMs) : undefined;
  const positions = startPositions(spec, watermarks, byTime);
  const reader = await opening;
  const stop = () => void reader.close();
  options.signal.addEventListener('abort', stop);
  try {
    for await (const set of reader.recordSets(positions, { until: options.exitAtEnd ? ends : undefined, signal: options.signal })) {
      const end = ends.get(set.partition)!;
      if (printer.copiesValues && !set.legacy) {
        for (const chunk of printer.renderRaw(set, options.exitAtEnd ? end : undefined)) await options.write(chunk);
      } else {
        const all = recordSetRecords(set, options.topic);
        const { text } = printer.render(options.exitAtEnd ? all.filter((r) => BigInt(r.offset) < end) : all);
        if (text) await options.write(text);
      }
      if (printer.full) return;
    }
  } finally {
    options.signal.removeEventListener('abort', stop);
    await reader.close();
  }
}

/** With --exit: a group member is done when each partition assigned to it started at its end or reached it. */
class EndWatch {
  private assigned: number[] | undefined;
  private readonly atEnd = new Set<number>();

  constructor(
    private readonly ends: Map<number, bigint>,
    private readonly done: () => void,
  ) {}

  /** A rebalance began: nothing counts as assigned until `assign`. */
  reset(): void {
    this.assigned = undefined;
  }

  /** The member's partitions with the offset each starts at. */
  assign(partitions: number[], starts: Map<number, bigint>): void {
    for (const p of partitions) if (starts.get(p)! >= this.ends.get(p)!) this.atEnd.add(p);
    this.assigned = partitions;
    this.check();
  }

  /** Records that `last` of `partition` was handled; true when that is the partition's end. */
  reached(partition: number, last: bigint): boolean {
    if (last + 1n < this.ends.get(partition)!) return false;
    this.atEnd.add(partition);
    this.check();
    return true;
  }

  private check(): void {
    if (this.assigned?.every((p) => this.atEnd.has(p))) this.done();
  }
}

/** Where each assigned partition starts for a group: its commit, else the start or end the flags name. */
async function groupStarts(admin: KafkaAdmin, group: string, topic: string, partitions: number[], fromBeginning: boolean): Promise<Map<number, bigint>> {
  const committed = new Map((await admin.committedOffsets(group, topic)).map((c) => [c.partition, c.offset]));
  const watermarks = new Map((await admin.watermarks(topic)).map((w) => [w.partition, w]));
  return new Map(
    partitions.map((p) => [p, (committed.get(p) ?? -1n) >= 0n ? committed.get(p)! : fromBeginning ? watermarks.get(p)!.low : watermarks.get(p)!.high]),
  );
}

async function tailAsGroup(admin: KafkaAdmin, kafka: KafkaClient, options: TailOptions, printer: Printer, ends: Map<number, bigint>): Promise<void> {
  const group = options.group!;
  const topic = options.topic;
  const fromBeginning = options.start?.kind === 'start';
  const consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxWaitTimeInMs: 500,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  let finish!: (error?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
  const watch = new EndWatch(ends, () => finish());
  const reachedEnd = (partition: number, last: bigint) => {
    if (watch.reached(partition, last)) consumer.pause([{ topic, partitions: [partition] }]);
  };
  // kafkajs restarts the consumer itself after a retriable crash (e.g. the coordinator still loading).
  const crashed = consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) finish(e.payload.error);
  });
  const onJoin = consumer.on(consumer.events.GROUP_JOIN, (e) => {
    if (!options.exitAtEnd) return;
    const mine = (e.payload.memberAssignment as Record<string, number[]>)[topic] ?? [];
    watch.reset();
    groupStarts(admin, group, topic, mine, fromBeginning)
      .then((starts) => watch.assign(mine, starts))
      .catch(finish);
  });
  // kafkajs resolves batches of only control or aborted records itself, without eachBatch.
  const onBatchEnd = consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (options.exitAtEnd && e.payload.topic === topic && e.payload.lastOffset !== undefined) reachedEnd(e.payload.partition, BigInt(e.payload.lastOffset));
  });
  const stop = () => finish();
  options.signal.addEventListener('abort', stop);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (printer.full) return;
        const last = await printBatch(batch, topic, options, printer, ends.get(batch.partition)!);
        if (last !== undefined) {
          resolveOffset(last.toString());
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (last + 1n).toString() }]);
          await heartbeat();
          if (options.exitAtEnd) reachedEnd(batch.partition, last);
        }
        if (printer.full) finish();
      },
    });
    await finished;
  } finally {
    options.signal.removeEventListener('abort', stop);
    crashed();
    onJoin();
    onBatchEnd();
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Prints a batch (up to the end with --exit); returns the last offset it took care of, if any. */
async function printBatch(batch: KafkaBatch, topic: string, options: TailOptions, printer: Printer, end: bigint): Promise<bigint | undefined> {
  const records: KafkaRecord[] = batch.messages
    .filter((m) => !options.exitAtEnd || BigInt(m.offset) < end)
    .map((m) => toKafkaRecord(topic, batch.partition, m));
  const { text, taken } = printer.render(records);
  if (text) await options.write(text);
  // Everything printed, or the whole batch when nothing was cut short (its last offset counts
  // control records, e.g. a transaction marker at the end of the partition).
  const whole = !printer.full && records.length === batch.messages.length;
  return whole ? BigInt(batch.lastOffset()) : taken > 0 ? BigInt(records[taken - 1]!.offset) : undefined;
}
