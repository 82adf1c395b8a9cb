import { createInterface } from 'node:readline';
import { UsageError, UserError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';
import { parseConfigs } from './create.js';

interface Message {
  key: string | null;
  value: string;
}

/** stdin lines → messages; with a separator, `KEY<sep>VALUE` (a line without it ends the input with its line number). */
export async function* stdinMessages(input: NodeJS.ReadableStream, key: string | null, separator: string | undefined): AsyncGenerator<Message | { badLine: number }> {
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (separator === undefined) {
      yield { key, value: line };
      continue;
    }
    const i = line.indexOf(separator);
    if (i < 0) {
      yield { badLine: n };
      return;
    }
    yield { key: line.slice(0, i), value: line.slice(i + separator.length) };
  }
}

export default async function run(ctx: CommandContext, topic: string): Promise<void> {
  const headers = parseConfigs(ctx.flags.header as string[] | undefined, '-H');
  const key = typeof ctx.flags.key === 'string' ? ctx.flags.key : null;
  const separator = typeof ctx.flags.keySeparator === 'string' ? ctx.flags.keySeparator : undefined;
  let partition: number | undefined;
  if (ctx.flags.partition !== undefined) {
    partition = Number(ctx.flags.partition);
    if (!Number.isInteger(partition) || partition < 0) throw new UsageError(`--partition "${String(ctx.flags.partition)}" is not a partition number.`);
  }
  if (typeof ctx.flags.value === 'string' && separator !== undefined) throw new UsageError('--key-separator applies to stdin lines; with --value use --key.');
  const sent = await withKafkaAdmin(ctx, async (admin) => {
    await admin.requireTopic(topic);
    const { kafkaClient } = await import('../../clients/kafka.js');
    const producer = kafkaClient(admin.bootstrap, 'outboxctl-produce').producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    try {
      const send = (batch: Message[]) => producer.send({ topic, acks: -1, messages: batch.map((m) => ({ key: m.key, value: m.value, headers, partition })) });
      if (typeof ctx.flags.value === 'string') {
        await send([{ key, value: ctx.flags.value }]);
        return 1;
      }
      let count = 0;
      let batch: Message[] = [];
      for await (const m of stdinMessages(process.stdin, key, separator)) {
        if ('badLine' in m) {
          // Lines are sent in order, so what came before the bad line is sent and nothing after it.
          if (batch.length) await send(batch);
          const before = m.badLine - 1;
          throw new UserError('PRODUCE_LINE', `Line ${m.badLine} has no key separator "${separator}"; ${before === 0 ? 'nothing was sent' : before === 1 ? 'line 1 was sent, nothing after' : `lines 1-${before} were sent, nothing after`}.`, {
            hint: 'Write KEY<sep>VALUE per line, or leave out --key-separator.',
          });
        }
        batch.push(m);
        if (batch.length === 1000) {
          await send(batch);
          count += batch.length;
          batch = [];
        }
      }
      if (batch.length) await send(batch);
      return count + batch.length;
    } finally {
      await producer.disconnect();
    }
  });
  if (ctx.json) ctx.out.document({ topic, records: sent });
  else ctx.out.result(`Produced ${sent} record${sent === 1 ? '' : 's'} to ${topic}.`);
}
