import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPg } from '../../src/clients/pg.js';
import { migrate } from '../../src/migrations/engine.js';
import { defaultLocation } from '../../src/migrations/scripts.js';
import { createTrackingServer, type TrackingServer } from '../../src/servers/tracking/app.js';
import { BIN, cli, ROOT } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';
import { stackState } from '../helpers/state.js';

describe('outboxctl parcel … against a running tracking server', () => {
  let server: TrackingServer;
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('pcli');
    await withPg(url, (c) => migrate(c, { locations: [defaultLocation()] }));
    server = await createTrackingServer({ databaseUrl: url, port: 0 });
  });
  afterAll(async () => server?.close());

  it('create, update, get and list, as tables and as JSON', async () => {
    const t = ['--tracking-url', server.url];
    const created = await cli(['parcel', 'create', '--contents', 'Kotlin is cool', '--json', ...t]);
    expect(created.code, created.stderr).toBe(0);
    const parcel = JSON.parse(created.stdout) as { id: string; version: number; status: string };
    expect(parcel).toMatchObject({ version: 1, status: 'registered' });

    const updated = await cli(['parcel', 'update', parcel.id, '--status', 'in_transit', '--if-match', '1', ...t]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(new RegExp(`${parcel.id}\\s+in_transit\\s+2\\s`));

    const stale = await cli(['parcel', 'update', parcel.id, '--status', 'delivered', '--if-match', '1', ...t]);
    expect(stale.code).toBe(1);
    expect(stale.stderr.split('\n')[0]).toBe(
      `error: The tracking server answered 412 Precondition failed: Parcel ${parcel.id} is at version 2, not 1; nothing was changed.`,
    );

    const got = JSON.parse((await cli(['parcel', 'get', parcel.id, '--json', ...t])).stdout) as { status: string };
    expect(got.status).toBe('in_transit');

    await cli(['parcel', 'create', '--contents', 'second', ...t]);
    const list = await cli(['parcel', 'list', '--limit', '1', '--json', ...t]);
    const page = JSON.parse(list.stdout) as { items: { contents: string }[]; nextCursor: string };
    expect(page.items.map((p) => p.contents)).toEqual(['second']);
    const next = JSON.parse((await cli(['parcel', 'list', '--limit', '1', '--cursor', page.nextCursor, '--json', ...t])).stdout) as { items: { id: string }[] };
    expect(next.items.map((p) => p.id)).toEqual([parcel.id]);
    const table = await cli(['parcel', 'list', ...t]);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+VERSION\s+UPDATED\s+CONTENTS$/);

    const bad = await cli(['parcel', 'update', parcel.id, '--status', 'lost', ...t]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Field "status" must be one of registered, in_transit, delivered, returned.');
  });

  it('a server that is not running: one sentence naming the URL, exit 1', async () => {
    const { code, stderr, stdout } = await cli(['parcel', 'list', '--tracking-url', 'http://127.0.0.1:1']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe('error: Cannot reach the tracking server at http://127.0.0.1:1: connection refused.');
    const viaEnv = await cli(['parcel', 'get', '00000000-0000-0000-0000-000000000000', '--json'], { TRACKING_URL: 'http://127.0.0.1:1' });
    expect(JSON.parse(viaEnv.stdout).error.code).toBe('TRACKING_UNREACHABLE');
  });
});

describe('outboxctl serve tracking as a process', () => {
  it("runs on the stack's own PostgreSQL, is found through the state file, and cleans up on Ctrl-C", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-serve-'));
    const env = { OUTBOXCTL_HOME: home, NO_COLOR: '1' };
    const serve = execa(BIN, ['serve', 'tracking', '--port', '0'], { env, cwd: ROOT, reject: false });
    const url = await new Promise<string>((resolve, reject) => {
      serve.stdout!.on('data', (chunk: Buffer) => {
        const match = /http:\/\/[\d.]+:\d+/.exec(chunk.toString());
        if (match) resolve(match[0]);
      });
      void serve.then((r) => reject(new Error(`serve exited: ${r.stderr}`)));
    });
    try {
      const created = await cli(['parcel', 'create', '--contents', 'via state', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const state = await stackState(home);
      expect(state.endpoints.tracking).toBe(url);
      const rows = await query(state.endpoints.database!, 'SELECT type FROM outbox');
      expect(rows).toEqual([{ type: 'ParcelCreated' }]);
    } finally {
      serve.kill('SIGINT');
    }
    const result = await serve;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('stopped PostgreSQL');
    const state = await stackState(home);
    expect(state.endpoints).toEqual({});
    const { stdout } = await execa('pgrep', ['-f', `postgres -D ${home}`], { reject: false });
    expect(stdout).toBe('');
  });
});
