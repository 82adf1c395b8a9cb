import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthStatus } from './liveness.js';
import type { SinkStats } from './sink.js';

/**
 * `GET /health`: the sink's state, counters, lag and last fetch as JSON, with the status of
 * `healthStatus`: 200 while it consumes or waits for Kafka to come back, 503 when it is at fault.
 */
export async function createSinkHealthServer(options: {
  host: string;
  port: number;
  stats: () => SinkStats;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/health' && req.url !== '/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found; try GET /health' }));
      return;
    }
    const stats = options.stats();
    res.writeHead(healthStatus(stats.state, stats.kafkaReachable), { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
