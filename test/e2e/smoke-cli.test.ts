import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';

describe('outboxctl smoke: bad input and what cannot run here', () => {
  it('a report file that is neither .json nor .xml is a usage error, and nothing starts', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-smoke-e2e-'));
    const r = await spawnCli(['smoke', '--report', 'smoke.txt'], { OUTBOXCTL_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--report "smoke.txt" must end in .json (a JSON report) or .xml (JUnit XML).');
    expect(await readdir(home)).toEqual([]);
  });

  it('a report directory that does not exist is refused before anything starts', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-smoke-e2e-'));
    const r = await spawnCli(['smoke', '--report', path.join(home, 'missing', 'smoke.xml')], { OUTBOXCTL_HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Cannot write the report ${path.join(home, 'missing', 'smoke.xml')}: its directory ${path.join(home, 'missing')} does not exist.`,
    );
    expect(await readdir(home)).toEqual([]);
  });

  it('a bad --timeout or --runtime is a usage error', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-smoke-e2e-'));
    const timeout = await spawnCli(['smoke', '--timeout', 'soon'], { OUTBOXCTL_HOME: home });
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/--timeout/);
    const runtime = await spawnCli(['smoke', '--runtime', 'k8s'], { OUTBOXCTL_HOME: home });
    expect(runtime.code).toBe(2);
    expect(runtime.stderr).toContain('--runtime "k8s" is not one of auto, native, docker.');
  });

  it('--runtime docker without an engine fails the stack step in one sentence, still writes the report, starts nothing', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-smoke-e2e-'));
    const file = path.join(home, 'smoke.json');
    const socket = path.join(home, 'docker.sock');
    const r = await spawnCli(['smoke', '--runtime', 'docker', '--report', file], { OUTBOXCTL_HOME: home, DOCKER_HOST: `unix://${socket}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot reach the Docker engine: ${socket} does not exist.`);
    expect(r.stderr).toMatch(/✖ \[1\/8\] stack /);
    expect(r.stdout).toMatch(/^smoke failed at stack after/);
    const report = JSON.parse(await readFile(file, 'utf8')) as { passed: boolean; steps: { name: string; status: string }[] };
    expect(report.passed).toBe(false);
    expect(report.steps.map((s) => s.status)).toEqual(['failed', ...Array(7).fill('skipped')]);
    const status = await spawnCli(['status', '--json'], { OUTBOXCTL_HOME: home });
    expect((JSON.parse(status.stdout) as { services: { state: string }[] }).services.every((s) => s.state === 'stopped')).toBe(true);
  });
});
