import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPg } from '../../src/clients/pg.js';
import { resolveToken } from '../../src/lib/config.js';
import { UsageError } from '../../src/lib/errors.js';
import { migrate } from '../../src/migrations/engine.js';
import { defaultLocation } from '../../src/migrations/scripts.js';
import { createTrackingServer, type TrackingServer } from '../../src/servers/tracking/app.js';
import { registerComponent } from '../../src/stack/components/index.js';
import type { Component, ServiceName } from '../../src/stack/components/types.js';
import { stackPaths } from '../../src/stack/paths.js';
import { emptyState, writeState } from '../../src/stack/state.js';
import { cli } from '../helpers/cli.js';
import { freshDatabase } from '../helpers/db.js';

const temp = () => mkdtemp(path.join(os.tmpdir(), 'outboxctl-holes-'));

describe('db prune-outbox --older-than', () => {
  it('a duration PostgreSQL cannot subtract is a usage error naming the flag, before any database work', async () => {
    const url = await freshDatabase('prune15');
    await withPg(url, (c) => migrate(c, { locations: [defaultLocation()] }));
    for (const database of [url, 'postgres://postgres:x@127.0.0.1:1/outbox']) {
      const r = await cli(['db', 'prune-outbox', '--older-than', '99999999999d', '--database-url', database]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^error: --older-than "99999999999d" is longer than .*\.$/);
      expect(r.stderr).not.toContain('interval');
    }
    const json = await cli(['db', 'prune-outbox', '--older-than', '99999999999d', '--json', '--database-url', url]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'USAGE' } });
    // A fraction of a millisecond is not a bigint either.
    const tiny = await cli(['db', 'prune-outbox', '--older-than', '0.0001', '--dry-run', '--json', '--database-url', url]);
    expect(tiny.code, tiny.stderr).toBe(0);
    expect(JSON.parse(tiny.stdout)).toMatchObject({ wouldDelete: 0 });
  });
});

describe('status of a stack that does not exist', () => {
  it('--stack nosuch or OUTBOXCTL_STACK=nosuch: exit 1 naming the stacks there are; a stack that exists still shows its services', async () => {
    const home = await temp();
    await writeState(stackPaths(home, 'alpha'), emptyState('alpha'));
    await writeState(stackPaths(home, 'beta'), emptyState('beta'));
    const flag = await cli(['status', '--stack', 'nosuch'], { OUTBOXCTL_HOME: home });
    expect(flag.code).toBe(1);
    expect(flag.stdout).toBe('');
    expect(flag.stderr.split('\n')[0]).toBe(`error: There is no stack "nosuch" under ${home}; its stacks are alpha, beta.`);
    expect(flag.stderr).toContain('hint: ');
    const env = await cli(['status', '--json'], { OUTBOXCTL_HOME: home, OUTBOXCTL_STACK: 'nosuch' });
    expect(env.code).toBe(1);
    expect(JSON.parse(env.stdout)).toEqual({ error: { code: 'NO_SUCH_STACK', message: expect.stringContaining('alpha, beta'), hint: expect.any(String) } });
    const alpha = await cli(['status', '--json', '--stack', 'alpha'], { OUTBOXCTL_HOME: home });
    expect(alpha.code, alpha.stderr).toBe(0);
    expect((JSON.parse(alpha.stdout) as { services: { state: string }[] }).services.every((s) => s.state === 'stopped')).toBe(true);
  });

  it('the default stack on a fresh home: no stack yet, run up; exit 1, and one JSON document under --json', async () => {
    const home = await temp();
    const text = await cli(['status'], { OUTBOXCTL_HOME: home });
    expect(text.code).toBe(1);
    expect(text.stderr.split('\n')[0]).toBe(`error: There is no stack "default" under ${home} yet.`);
    expect(text.stderr).toContain('hint: `outboxctl up` creates it');
    const json = await cli(['status', '--json'], { OUTBOXCTL_HOME: home });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'NO_SUCH_STACK' } });
  });
});

/** A server that takes 1.5 s to stop after SIGTERM: a restart of it cannot take less. */
const SLOW_STOP_MS = 1_500;
const SLOW_SERVER = `
const http = require('node:http');
const server = http.createServer((q, r) => r.end('slow')).listen(Number(process.argv[1]), process.argv[2], () => console.log('slowstop listening'));
process.on('SIGTERM', () => setTimeout(() => process.exit(0), ${SLOW_STOP_MS}));
`;
const slowStop: Component = {
  name: 'slowstop' as ServiceName,
  summary: 'a service of the test that is slow to stop',
  version: '1.0',
  dependsOn: [],
  ports: [{ name: 'main', preferred: 18_767 }],
  readiness: { describe: 'the log line "slowstop listening"', check: { kind: 'log', pattern: /slowstop listening/ } },
  endpointNames: [],
  endpoints: async () => ({}),
  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 10_000,
    launch: async (ctx) => ({ command: process.execPath, args: ['-e', SLOW_SERVER, String(ctx.ports.main), ctx.host] }),
  },
};

describe('restart', () => {
  it('prints the time of the whole restart (stop, start, readiness), not only the start', async () => {
    const forget = registerComponent(slowStop);
    const env = { OUTBOXCTL_HOME: await temp() };
    try {
      const up = await cli(['up', '--services', 'slowstop'], env);
      expect(up.code, up.stderr).toBe(0);
      const begin = performance.now();
      const text = await cli(['restart', 'slowstop'], env);
      const wallS = (performance.now() - begin) / 1000;
      expect(text.code, text.stderr).toBe(0);
      const printed = /^Restarted slowstop in (\d+\.\d)s\.$/m.exec(text.stdout);
      expect(printed, text.stdout).not.toBeNull();
      expect(Number(printed![1])).toBeGreaterThanOrEqual(SLOW_STOP_MS / 1000);
      expect(Number(printed![1])).toBeLessThanOrEqual(wallS + 0.05);
      const json = await cli(['restart', 'slowstop', '--json'], env);
      expect(json.code, json.stderr).toBe(0);
      expect((JSON.parse(json.stdout) as { seconds: number }).seconds).toBeGreaterThanOrEqual(SLOW_STOP_MS / 1000);
    } finally {
      await cli(['down'], env);
      forget();
    }
  });
});

describe('the bearer token of outboxctl’s clients', () => {
  it('resolveToken: --token, else OUTBOXCTL_TOKEN, else the state’s secrets.token, else none', () => {
    const state = { endpoints: {}, secrets: { token: 'from-state' } };
    expect(resolveToken({ flags: { token: 'from-flag' }, env: { OUTBOXCTL_TOKEN: 'from-env' }, state })).toEqual({ value: 'from-flag', source: 'flag' });
    expect(resolveToken({ flags: {}, env: { OUTBOXCTL_TOKEN: 'from-env' }, state })).toEqual({ value: 'from-env', source: 'env' });
    expect(resolveToken({ flags: {}, env: {}, state })).toEqual({ value: 'from-state', source: 'state' });
    expect(resolveToken({ flags: {}, env: {}, state: { endpoints: {}, secrets: {} } })).toEqual({ value: undefined, source: 'none' });
    expect(resolveToken({ flags: {}, env: {} })).toEqual({ value: undefined, source: 'none' });
    expect(() => resolveToken({ flags: { token: '' }, env: {} })).toThrow(UsageError);
    expect(() => resolveToken({ flags: {}, env: { OUTBOXCTL_TOKEN: 'has space' } })).toThrow(/OUTBOXCTL_TOKEN/);
  });

  describe('outboxctl parcel against a tracking server that wants one', () => {
    let server: TrackingServer;
    const token = 'parcel-secret-3';
    beforeAll(async () => {
      const url = await freshDatabase('ptok');
      await withPg(url, (c) => migrate(c, { locations: [defaultLocation()] }));
      server = await createTrackingServer({ databaseUrl: url, port: 0, token });
    });
    afterAll(async () => server?.close());

    it('sends --token, else OUTBOXCTL_TOKEN, else the stack state’s token; without one it says how to give it', async () => {
      const home = await temp();
      const t = ['--tracking-url', server.url];
      const none = await cli(['parcel', 'list', ...t], { OUTBOXCTL_HOME: home });
      expect(none.code).toBe(1);
      expect(none.stderr.split('\n')[0]).toMatch(/^error: The tracking server answered 401 Unauthorized: .*\.$/);
      expect(none.stderr).toMatch(/hint: .*--token.*OUTBOXCTL_TOKEN/);
      const flag = await cli(['parcel', 'create', '--contents', 'sent with a flag', '--json', '--token', token, ...t], { OUTBOXCTL_HOME: home });
      expect(flag.code, flag.stderr).toBe(0);
      const env = await cli(['parcel', 'list', '--json', ...t], { OUTBOXCTL_HOME: home, OUTBOXCTL_TOKEN: token });
      expect(env.code, env.stderr).toBe(0);
      expect((JSON.parse(env.stdout) as { items: unknown[] }).items).toHaveLength(1);
      const wrongFlag = await cli(['parcel', 'list', '--token', 'nope', ...t], { OUTBOXCTL_HOME: home, OUTBOXCTL_TOKEN: token });
      expect(wrongFlag.code).toBe(1);
      await writeState(stackPaths(home, 'default'), { ...emptyState('default'), endpoints: { tracking: server.url }, secrets: { token } });
      const fromState = await cli(['parcel', 'list', '--json'], { OUTBOXCTL_HOME: home });
      expect(fromState.code, fromState.stderr).toBe(0);
    });
  });
});
