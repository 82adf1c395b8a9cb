import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerComponent } from '../../src/stack/components/index.js';
import { stackPaths } from '../../src/stack/paths.js';
import { freePort, isPortFree } from '../../src/stack/ports.js';
import { checkReadiness } from '../../src/stack/readiness.js';
import { loadRuntime } from '../../src/stack/runtimes/index.js';
import { isServiceAlive, probeService, serviceContext, startService, stopService } from '../../src/stack/service.js';
import { readState } from '../../src/stack/state.js';
import { cli } from '../helpers/cli.js';
import { fakeComponent } from '../helpers/fake-component.js';
import { stackState } from '../helpers/state.js';

const fake = fakeComponent;

const temp = () => mkdtemp(path.join(os.tmpdir(), 'outboxctl-component-'));

describe('one component model', () => {
  it('a component added in a test runs under the native runtime: started, ready by its log line, probed, logged, stopped', async () => {
    const paths = stackPaths(await temp(), 'fake');
    const runtime = await loadRuntime('native');
    const port = await freePort();
    const ctx = serviceContext(fake, { paths, env: process.env, host: '127.0.0.1', ports: { main: port }, endpoints: {}, artifacts: {} });
    const started = await startService(runtime, fake, ctx, { timeoutMs: 20_000 });
    const state = (await readState(paths))!;
    const recorded = state.services.fake!;
    expect(recorded).toMatchObject({ runtime: 'native', ports: { main: port }, version: '1.0' });
    expect(runtime.identify(recorded)?.id).toBe(runtime.identify(started.service)?.id);
    expect(await isServiceAlive(recorded)).toBe(true);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from fake');
    expect(await probeService(fake, paths, state)).toBe(true);
    expect(await runtime.logs(paths, fake.name)).toEqual(expect.arrayContaining(['fake starting', 'fake listening']));
    expect(await runtime.usage(recorded)).toBeGreaterThan(1_000_000);

    expect(await stopService(paths, fake, recorded)).toBe('stopped');
    expect(await isServiceAlive(recorded)).toBe(false);
    expect(await isPortFree(port)).toBe(true);
    expect((await readState(paths))!.services.fake).toEqual({ runtime: 'native', host: '127.0.0.1', ports: { main: port }, version: '1.0' });
  });

  it('one that never gets ready is stopped again, and the error names the probe and shows its log', async () => {
    const paths = stackPaths(await temp(), 'fake');
    const runtime = await loadRuntime('native');
    const ctx = serviceContext(fake, {
      paths,
      env: { ...process.env, FAKE_SILENT: '1' },
      host: '127.0.0.1',
      ports: { main: await freePort() },
      endpoints: {},
      artifacts: {},
    });
    let created: Parameters<typeof runtime.isAlive>[0];
    const error = await startService(runtime, fake, ctx, { timeoutMs: 1_500, onCreated: (s) => (created = s) }).catch(
      (e: unknown) => e as Error & { code: string; details: string[] },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'SERVICE_NOT_READY' });
    expect((error as Error).message).toMatch(/^Service fake not ready after \ds: the log line "fake listening" did not pass/);
    expect((error as { details: string[] }).details).toContain('  fake starting');
    expect(await runtime.isAlive(created)).toBe(false);
    expect((await readState(paths))!.services.fake).not.toHaveProperty('pid');
  });
});

describe('a component added without a change outside components/ and the test', () => {
  it('runs through the commands like a built-in one: up, status, logs, a second up, down', async () => {
    const forget = registerComponent(fake);
    const home = await temp();
    const env = { OUTBOXCTL_HOME: home };
    try {
      const dry = await cli(['up', '--services', 'fake', '--dry-run'], env);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout.trim()).toBe('1. start fake');
      const up = await cli(['up', '--services', 'fake', '--json'], env);
      expect(up.code, up.stderr).toBe(0);
      const result = JSON.parse(up.stdout) as { runtime: string; started: { service: string; pid: number }[] };
      expect(result.runtime).toBe('native');
      expect(result.started.map((s) => s.service)).toEqual(['fake']);
      // Its preferred port when free, else the one `up` chose: whichever the state records.
      const port = (await stackState(home)).services.fake!.ports.main!;
      // No keep-alive: an idle connection of this test's must not hold the fake's port after it stops.
      expect(await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text()).toBe('hello from fake');

      const status = JSON.parse((await cli(['status', '--json'], env)).stdout) as { services: { name: string; state: string; probe: string; port: number }[] };
      expect(status.services.find((s) => s.name === 'fake')).toMatchObject({ state: 'ready', probe: 'the log line "fake listening"', port });
      const logs = await cli(['logs', 'fake'], env);
      expect(logs.stdout.split('\n')).toEqual(expect.arrayContaining(['fake starting', 'fake listening']));
      const again = JSON.parse((await cli(['up', '--services', 'fake', '--json'], env)).stdout) as { alreadyReady: boolean };
      expect(again.alreadyReady).toBe(true);

      const down = await cli(['down'], env);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toContain('stopped fake');
      // The kernel closes the stopped process's sockets as it exits; a loaded machine may take a moment.
      let free = await isPortFree(port);
      for (let i = 0; i < 50 && !free; i++) {
        await new Promise((r) => setTimeout(r, 100));
        free = await isPortFree(port);
      }
      expect(free).toBe(true);
      expect(JSON.parse((await cli(['stacks', '--json'], env)).stdout).stacks[0]).toMatchObject({ running: [], stale: [] });
    } finally {
      await cli(['down'], env);
      forget();
    }
  });
});

describe('readiness as data', () => {
  it('evaluates port, http (status and body) and log checks from the host', async () => {
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.statusCode = req.url === '/busy' ? 503 : 200;
      res.end(JSON.stringify([{ class: 'a.B' }]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const at = { host: '127.0.0.1', ports: { main: port }, secret: async () => '', logs: async () => ['x', 'started ok'] };
    try {
      await expect(checkReadiness({ describe: '', check: { kind: 'port' } }, at)).resolves.toBeUndefined();
      await expect(checkReadiness({ describe: '', check: { kind: 'http', path: '/' } }, at)).resolves.toBeUndefined();
      await expect(checkReadiness({ describe: '', check: { kind: 'http', path: '/busy' } }, at)).rejects.toThrow(/answered 503/);
      await expect(checkReadiness({ describe: '', check: { kind: 'http', path: '/busy', statuses: [200, 503] } }, at)).resolves.toBeUndefined();
      const expectClass = (name: string) => (body: unknown) => ((body as { class: string }[]).some((p) => p.class === name) ? undefined : `${name} missing`);
      await expect(checkReadiness({ describe: '', check: { kind: 'http', path: '/', expect: expectClass('a.B') } }, at)).resolves.toBeUndefined();
      await expect(checkReadiness({ describe: '', check: { kind: 'http', path: '/', expect: expectClass('c.D') } }, at)).rejects.toThrow('c.D missing');
      await expect(checkReadiness({ describe: '', check: { kind: 'log', pattern: /started ok/ } }, at)).resolves.toBeUndefined();
      await expect(checkReadiness({ describe: '', check: { kind: 'log', pattern: /never/ } }, at)).rejects.toThrow(/not written yet/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(checkReadiness({ describe: '', check: { kind: 'port' } }, { ...at, ports: { main: port } })).rejects.toThrow(/connection refused/);
    await expect(checkReadiness({ describe: '', check: { kind: 'http', path: '/' } }, at)).rejects.toThrow(/connection refused/);
  });
});
