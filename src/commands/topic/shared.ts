import type { TopicAdmin } from '../../clients/kafka.js';
import { resolveEndpoint } from '../../lib/config.js';
import { readState } from '../../stack/state.js';
import type { CommandContext } from '../context.js';

/** Runs `fn` with a topic admin on the stack's Kafka or --bootstrap-server; always disconnects. */
export async function withTopicAdmin<T>(ctx: CommandContext, fn: (admin: TopicAdmin) => Promise<T>): Promise<T> {
  const state = await readState(ctx.stack);
  const bootstrap = resolveEndpoint('kafka', { flags: ctx.flags, env: ctx.io.env, state }).value!;
  const { TopicAdmin } = await import('../../clients/kafka.js');
  const admin = await TopicAdmin.connect(bootstrap);
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}
