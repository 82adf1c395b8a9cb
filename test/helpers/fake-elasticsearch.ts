import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeElasticsearch {
  url: string;
  /** Every `_search` body received, in order (validation that happens first sends none). */
  searches: { index: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

const json = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' }).end(JSON.stringify(body));

/**
 * An Elasticsearch 7.10 that answers `GET /`, cluster health and `_search` with no hits. Like the
 * real one on this mapping (dates as epoch_millis, ids as keywords), a `search_after` that is not
 * [integer, string] is refused with 400, so a server that passes one on shows it as a failure.
 */
export async function fakeElasticsearch(): Promise<FakeElasticsearch> {
  const searches: FakeElasticsearch['searches'] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') return json(res, 200, { name: 'fake', cluster_name: 'fake', version: { number: '7.10.2' }, tagline: 'You Know, for Search' });
      if (url.pathname === '/_cluster/health') return json(res, 200, { status: 'green', number_of_nodes: 1 });
      const search = /^\/([^/]+)\/_search$/.exec(url.pathname);
      if (!search) return json(res, 404, { error: { type: 'fake', reason: `no route ${url.pathname}` }, status: 404 });
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      searches.push({ index: decodeURIComponent(search[1]!), body });
      const after = body.search_after as unknown[] | undefined;
      if (after !== undefined && !(Array.isArray(after) && after.length === 2 && Number.isSafeInteger(after[0]) && typeof after[1] === 'string')) {
        return json(res, 400, { error: { root_cause: [{ type: 'parse_exception', reason: 'bad search_after' }], type: 'parse_exception' }, status: 400 });
      }
      return json(res, 200, { took: 1, timed_out: false, hits: { total: { value: 0, relation: 'eq' }, hits: [] }, aggregations: {} });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    searches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
