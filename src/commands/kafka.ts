import type { KafkaAdmin } from '../clients/kafka.js';
import { resolveKafkaTarget } from '../lib/config.js';
import type { KafkaTarget } from '../lib/targets.js';
import { type CommandContext, resolveInputOf } from './context.js';

/**
 * Kafka for this command: --bootstrap-server / KAFKA_BOOTSTRAP_SERVERS, the context's (with its TLS
 * and SASL) or the stack's.
 */
export async function kafkaTargetOf(ctx: CommandContext): Promise<KafkaTarget> {
  return resolveKafkaTarget(await resolveInputOf(ctx));
}

/** The bootstrap servers alone (host:port,…), for messages and tools that take only an address. */
export async function kafkaBootstrap(ctx: CommandContext): Promise<string> {
  return (await kafkaTargetOf(ctx)).brokers;
}

/** Runs `fn` with an admin client on the resolved Kafka; always disconnects. */
export async function withKafkaAdmin<T>(ctx: CommandContext, fn: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const target = await kafkaTargetOf(ctx);
  const { KafkaAdmin } = await import('../clients/kafka.js');
  const admin = await KafkaAdmin.connect(target);
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}
