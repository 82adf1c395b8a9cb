import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** A kafkajs client for the stack's brokers; quiet unless DEBUG asks. */
export function kafkaClient(bootstrap: string, clientId = 'outboxctl'): kafkajs.Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  return new Kafka({
    clientId,
    brokers: bootstrap.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
}

/** A metadata request: resolves with the brokers the cluster lists. */
export async function describeBrokers(bootstrap: string): Promise<{ nodeId: number; host: string; port: number }[]> {
  const admin = kafkaClient(bootstrap, 'outboxctl-probe').admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('the cluster lists no broker yet');
    return cluster.brokers;
  } finally {
    await admin.disconnect();
  }
}
