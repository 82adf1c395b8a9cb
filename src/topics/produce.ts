import { createInterface } from 'node:readline';
import type { KafkaAdmin } from '../clients/kafka.js';
import { UserError } from '../lib/errors.js';

/** One record to write: its key (null: partitioned round-robin) and value. */
export interface ProduceMessage {
  key: string | null;
  value: string;
}

/** When a batch is full: by records, and by bytes of keys, values and headers. */
export interface BatchLimits {
  maxCount: number;
  maxBytes: number;
}

/**
 * kafkajs sends a batch as one record batch per partition, and the broker refuses one over its
 * message.max.bytes (1 MiB by default): half of that leaves room for the records' own framing.
 */
export const BATCH_LIMITS: BatchLimits = { maxCount: 1000, maxBytes: 512 * 1024 };

/** Sends one batch, in order; resolves once Kafka acknowledged it. */
export type SendBatch = (batch: ProduceMessage[]) => Promise<void>;

/** What `topic produce` writes: `value` as one record, or one record per line of stdin. */
export interface ProduceRequest {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value?: string;
  /** Stdin lines are `KEY<separator>VALUE`. */
  separator?: string;
  partition?: number;
  limits?: BatchLimits;
}

/** Pure: one stdin line as a message; with a separator `KEY<sep>VALUE`, undefined when the line lacks it. */
export function parseLine(line: string, key: string | null, separator: string | undefined): ProduceMessage | undefined {
  if (separator === undefined) return { key, value: line };
  const i = line.indexOf(separator);
  return i < 0 ? undefined : { key: line.slice(0, i), value: line.slice(i + separator.length) };
}

/** Stdin lines → messages; a line without the separator ends the input with its line number (1-based). */
export async function* lineMessages(
  input: NodeJS.ReadableStream,
  key: string | null,
  separator: string | undefined,
): AsyncGenerator<ProduceMessage | { badLine: number }> {
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    const message = parseLine(line, key, separator);
    if (message === undefined) {
      yield { badLine: n };
      return;
    }
    yield message;
  }
}

/** Bytes a message adds to a request, headers (the same on every record) included. */
function messageBytes(message: ProduceMessage, headerBytes: number): number {
  return Buffer.byteLength(message.value) + (message.key === null ? 0 : Buffer.byteLength(message.key)) + headerBytes;
}

/**
 * Collects messages into batches under `limits`. A batch goes out as soon as it is full, so a slow
 * pipe's first thousand lines do not wait for the next one; a message larger than maxBytes goes alone.
 */
export class Batcher {
  private batch: ProduceMessage[] = [];
  private bytes = 0;
  private readonly headerBytes: number;

  constructor(
    private readonly limits: BatchLimits = BATCH_LIMITS,
    headers: Record<string, string> = {},
  ) {
    this.headerBytes = Object.entries(headers).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  }

  /** Adds a message; returns the batches to send now, oldest first (none while the open one has room). */
  add(message: ProduceMessage): ProduceMessage[][] {
    const ready: ProduceMessage[][] = [];
    const size = messageBytes(message, this.headerBytes);
    if (this.batch.length > 0 && this.bytes + size > this.limits.maxBytes) ready.push(this.take());
    this.batch.push(message);
    this.bytes += size;
    if (this.batch.length >= this.limits.maxCount || this.bytes >= this.limits.maxBytes) ready.push(this.take());
    return ready;
  }

  /** The open batch, unless it is empty. */
  flush(): ProduceMessage[][] {
    return this.batch.length > 0 ? [this.take()] : [];
  }

  private take(): ProduceMessage[] {
    const batch = this.batch;
    this.batch = [];
    this.bytes = 0;
    return batch;
  }
}

/** The error for a line without the key separator, saying which lines were sent. */
export function badLineError(line: number, separator: string): UserError {
  const before = line - 1;
  const sent = before === 0 ? 'nothing was sent' : before === 1 ? 'line 1 was sent, nothing after' : `lines 1-${before} were sent, nothing after`;
  return new UserError('PRODUCE_LINE', `Line ${line} has no key separator "${separator}"; ${sent}.`, {
    hint: 'Write KEY<sep>VALUE per line, or leave out --key-separator.',
  });
}

/**
 * Sends the lines of `input` through `send` in batches; resolves with the number of records sent.
 * At a line without the separator it sends what came before and throws PRODUCE_LINE.
 */
export async function sendLines(
  input: NodeJS.ReadableStream,
  send: SendBatch,
  request: Pick<ProduceRequest, 'key' | 'separator' | 'headers' | 'limits'>,
): Promise<number> {
  const batcher = new Batcher(request.limits, request.headers);
  let sent = 0;
  const sendAll = async (batches: ProduceMessage[][]) => {
    for (const batch of batches) {
      await send(batch);
      sent += batch.length;
    }
  };
  for await (const m of lineMessages(input, request.key, request.separator)) {
    if ('badLine' in m) {
      // Lines are sent in order, so what came before the bad line is sent and nothing after it.
      await sendAll(batcher.flush());
      throw badLineError(m.badLine, request.separator!);
    }
    await sendAll(batcher.add(m));
  }
  await sendAll(batcher.flush());
  return sent;
}

/** Writes the records of `request` (reading `input` unless it has a value) with an idempotent producer; resolves with how many Kafka took. */
export async function produce(admin: Pick<KafkaAdmin, 'requireTopic' | 'target'>, request: ProduceRequest, input: NodeJS.ReadableStream): Promise<number> {
  const { topic, headers, partition } = request;
  await admin.requireTopic(topic);
  const { kafkaClient, kafkaConnectionError } = await import('../clients/kafka.js');
  const producer = kafkaClient(admin.target, 'outboxctl-produce').producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 5 });
  await producer.connect().catch(async (error: unknown) => {
    throw await kafkaConnectionError(admin.target, error);
  });
  try {
    const send: SendBatch = async (batch) => {
      await producer.send({ topic, acks: -1, messages: batch.map((m) => ({ key: m.key, value: m.value, headers, partition })) });
    };
    if (request.value !== undefined) {
      await send([{ key: request.key, value: request.value }]);
      return 1;
    }
    return await sendLines(input, send, request);
  } finally {
    await producer.disconnect();
  }
}
