import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/clients/connect.js';

/** The Connect client's retries and error sentences, against a stand-in worker on port 0. */
describe('the Connect client against a stand-in worker', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  const serve = async (handler: (method: string, url: string, n: number) => [number, unknown]): Promise<string> => {
    let n = 0;
    server = createServer((req, res) => {
      const [status, body] = handler(req.method!, req.url!, ++n);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  };

  it('retries 409 (rebalance) with growing pauses, then answers', async () => {
    const url = await serve((_m, _u, n) =>
      n < 3
        ? [409, { error_code: 409, message: 'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)' }]
        : [200, []],
    );
    const retries: string[] = [];
    expect(await new ConnectClient(url, { onRetry: (_a, reason) => retries.push(reason) }).names()).toEqual([]);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/^HTTP 409: Cannot complete request momentarily/);
  });

  it('a 409 past the deadline, a refused request and an unreachable worker are one sentence each', async () => {
    const url = await serve((_m, u) =>
      u.startsWith('/connectors/x')
        ? [400, { error_code: 400, message: 'org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector configuration is invalid.' }]
        : [409, { error_code: 409, message: 'rebalance in progress' }],
    );
    await expect(new ConnectClient(url, { deadlineMs: 700 }).names()).rejects.toThrow(`Kafka Connect at ${url} did not complete GET /connectors within 1s (`);
    await expect(new ConnectClient(url).putConfig('x', {})).rejects.toThrow(
      `Kafka Connect at ${url} refused PUT /connectors/x/config (HTTP 400): Connector configuration is invalid.`,
    );
    await expect(new ConnectClient('http://127.0.0.1:1').plugins()).rejects.toThrow('Cannot reach Kafka Connect at http://127.0.0.1:1: connection refused.');
  });

  it('a 500 that reports a bad request is not retried; 404 of a status is "no such connector"', async () => {
    let calls = 0;
    const url = await serve((_m, u) => {
      calls++;
      return u.includes('/validate')
        ? [500, { error_code: 500, message: 'org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Failed to find any class' }]
        : [404, { error_code: 404, message: 'No status found for connector c' }];
    });
    const client = new ConnectClient(url);
    await expect(client.validate('Nope', {})).rejects.toThrow('(HTTP 500): Failed to find any class.');
    expect(calls).toBe(1);
    expect(await client.status('c')).toBeUndefined();
  });
});
