import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning } from '../../src/stack/runtimes/native/process.js';
import { nativeStackState } from '../helpers/state.js';
import { FAKE_SERVICES, fakeCli, newHome, pidsOf, removeStacks, UP_FAKES } from './fake-stack.js';

/**
 * Fault scenarios of `up` on fake services (their processes run as the real ones do): an `up` killed
 * halfway through its plan, then `up` again; two `up` at the same moment. Nothing may run twice.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function home(): Promise<string> {
  const h = await newHome();
  cleanups.push(() => removeStacks(h, ['default']));
  return h;
}

/** The recorded pid of a service, once the state file records one (undefined while it does not). */
async function recordedPid(h: string, service: string): Promise<number | undefined> {
  const state = await nativeStackState(h).catch(() => undefined);
  return state?.services[service]?.pid;
}

/** Exactly one process runs per fake service, and it is the one the state records. */
async function expectOneEach(h: string): Promise<void> {
  for (const service of FAKE_SERVICES) expect(pidsOf(h, 'default', service), service).toEqual([await recordedPid(h, service)]);
}

describe('kill -9 of an up halfway through its plan, then up again', () => {
  it('while its second service starts (recorded, not ready): the first is kept, the second restarted, none twice', async () => {
    const h = await home();
    // fakebus never gets ready in this run: the up waits for it until it is killed.
    const first = fakeCli(h, UP_FAKES, { FAKE_DELAY_MS_FAKEBUS: '600000' });
    let bus: number | undefined;
    while (!isRunning(bus)) {
      await sleep(100);
      bus = await recordedPid(h, 'fakebus');
    }
    const db = (await recordedPid(h, 'fakedb'))!;
    first.kill('SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    expect(isRunning(db) && isRunning(bus)).toBe(true);

    const again = await fakeCli(h, UP_FAKES);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('fakebus is running but not ready; restarting it');
    expect(await recordedPid(h, 'fakedb')).toBe(db);
    expect(isRunning(bus)).toBe(false);
    await expectOneEach(h);
  });

  it('after its second service was recorded, and got ready only once the up was gone: it is kept, with its endpoint recorded', async () => {
    const h = await home();
    const first = fakeCli(h, UP_FAKES, { FAKE_DELAY_MS_FAKEBUS: '4000' });
    let bus: number | undefined;
    while (!isRunning(bus)) {
      await sleep(100);
      bus = await recordedPid(h, 'fakebus');
    }
    first.kill('SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    const port = (await nativeStackState(h)).services.fakebus!.ports.main!;
    expect((await nativeStackState(h)).endpoints.kafka).toBeUndefined();
    // The orphan gets ready by itself: the next up keeps it, and its peers must learn where it is.
    while (
      !(await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.ok)
        .catch(() => false))
    )
      await sleep(200);

    const again = await fakeCli(h, UP_FAKES);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await recordedPid(h, 'fakebus')).toBe(bus);
    expect((await nativeStackState(h)).endpoints.kafka).toBe(`127.0.0.1:${port}`);
    await expectOneEach(h);
  });

  it('between starting a service and recording it: the unrecorded process is stopped, not run beside a new one', async () => {
    const h = await home();
    const first = await fakeCli(h, UP_FAKES, { FAKE_KILL_AFTER_SPAWN: 'fakebus' });
    expect(first.signal).toBe('SIGKILL');
    const orphans = pidsOf(h, 'default', 'fakebus');
    expect(orphans).toHaveLength(1);
    expect(await recordedPid(h, 'fakebus')).toBeUndefined();

    const again = await fakeCli(h, UP_FAKES);
    expect(again.exitCode, again.stderr).toBe(0);
    await expectOneEach(h);
    expect(isRunning(orphans[0])).toBe(false);
    expect(again.stderr).toContain(`pid ${orphans[0]} belongs to stack "default" but is recorded nowhere`);
  });
});

describe('down after an up killed between starting a service and recording it', () => {
  it('stops the unrecorded process with the recorded ones', async () => {
    const h = await home();
    expect((await fakeCli(h, UP_FAKES, { FAKE_KILL_AFTER_SPAWN: 'fakebus' })).signal).toBe('SIGKILL');
    const orphans = pidsOf(h, 'default', 'fakebus');
    expect(orphans).toHaveLength(1);
    const down = await fakeCli(h, ['down']);
    expect(down.exitCode, down.stderr).toBe(0);
    for (const service of FAKE_SERVICES) expect(pidsOf(h, 'default', service), service).toEqual([]);
  });
});

describe('two up at the same moment on one stack', () => {
  it('one waits for the other and says so; both exit 0; no service runs twice', async () => {
    const h = await home();
    // Each takes a while to get ready, so the second surely finds the lock held.
    const env = { FAKE_DELAY_MS_FAKEDB: '1500', FAKE_DELAY_MS_FAKEBUS: '1500' };
    const [a, b] = await Promise.all([fakeCli(h, UP_FAKES, env), fakeCli(h, UP_FAKES, env)]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const waited = [a, b].filter((r) => r.stderr.includes('waiting for another outboxctl command on stack "default"'));
    expect(waited).toHaveLength(1);
    expect(waited[0]!.stdout).toMatch(/already up: fakedb, fakebus ready; nothing changed/);
    await expectOneEach(h);
  });
});
