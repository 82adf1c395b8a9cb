import type { KafkaAdmin } from '../clients/kafka.js';
import { resolveEndpoint } from '../lib/config.js';
import { readState } from '../stack/state.js';
import type { CommandContext } from './context.js';

/** The stack's Kafka bootstrap servers, or --bootstrap-server / KAFKA_BOOTSTRAP_SERVERS. */
export async function kafkaBootstrap(ctx: CommandContext): Promise<string> {
  const state = await readState(ctx.stack);
  return resolveEndpoint('kafka', { flags: ctx.flags, env: ctx.io.env, state }).value!;
}

/** Runs `fn` with an admin client on the resolved Kafka; always disconnects. */
export async function withKafkaAdmin<T>(ctx: CommandContext, fn: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const bootstrap = await kafkaBootstrap(ctx);
  const { KafkaAdmin } = await import('../clients/kafka.js');
  const admin = await KafkaAdmin.connect(bootstrap);
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}
