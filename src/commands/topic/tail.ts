import { UsageError } from '../../lib/errors.js';
import { onInterrupt } from '../../lib/interrupt.js';
import type { Stream } from '../../lib/output.js';
import { parseFormat } from '../../tail/format.js';
import { parseStart } from '../../tail/start.js';
import type { CommandContext } from '../context.js';
import { withKafkaAdmin } from '../kafka.js';

/** A write that waits for 'drain' when the stream asks for it (a slow `| less` holds the tail back). */
function writer(stream: Stream): (chunk: string) => Promise<void> {
  const s = stream as Stream & { once?: (event: 'drain', fn: () => void) => void };
  return (chunk) =>
    new Promise<void>((resolve) => {
      if (s.write(chunk) !== false || typeof s.once !== 'function') resolve();
      else s.once('drain', resolve);
    });
}

export default async function run(ctx: CommandContext, topic: string): Promise<void> {
  const { flags } = ctx;
  let count: number | undefined;
  if (flags.count !== undefined) {
    count = Number(flags.count);
    if (!Number.isInteger(count) || count < 0) throw new UsageError(`--count "${String(flags.count)}" is not a whole number.`);
  }
  const options = {
    topic,
    start: parseStart(flags),
    count,
    exitAtEnd: flags.exit === true,
    render: { format: parseFormat(String(flags.format ?? 'raw')), printKey: flags.printKey === true, pretty: flags.pretty === true },
    unwrap: flags.unwrap === true,
    aggregate: typeof flags.aggregate === 'string' ? flags.aggregate : undefined,
    group: typeof flags.group === 'string' ? flags.group : undefined,
    write: writer(ctx.io.stdout),
    warn: (m: string) => ctx.out.warn(m),
  };
  const controller = new AbortController();
  // Ctrl-C ends a follow: the reader closes (a group member leaves its group) before the exit.
  const forget = onInterrupt(async () => controller.abort());
  try {
    const { printed } = await withKafkaAdmin(ctx, async (admin) => {
      const [{ tail }, { kafkaClient }] = await Promise.all([import('../../tail/run.js'), import('../../clients/kafka.js')]);
      return tail(admin, kafkaClient(admin.target, 'outboxctl-tail'), { ...options, signal: controller.signal });
    });
    if (ctx.io.stderr.isTTY) ctx.out.info(`Processed a total of ${printed} record${printed === 1 ? '' : 's'}.`);
  } finally {
    forget();
  }
}
