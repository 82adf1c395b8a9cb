import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackPaths } from '../../src/stack/paths.js';
import { emptyState, writeState } from '../../src/stack/state.js';
import { cli } from '../helpers/cli.js';

describe('stacks with a Docker engine that does not answer', () => {
  it('lists every stack; the one whose engine is gone says why instead of failing the command', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-stacks-engine-'));
    const socket = path.join(home, 'gone.sock');
    const gone = emptyState('gone');
    gone.runtime = 'docker';
    gone.services.postgres = { runtime: 'docker', containerId: 'a'.repeat(64), image: 'postgres:17.11', engine: socket, ports: { main: 41000 } };
    await writeState(stackPaths(home, 'gone'), gone);
    await writeState(stackPaths(home, 'plain'), emptyState('plain'));
    const r = await cli(['stacks', '--json'], { OUTBOXCTL_HOME: home, DOCKER_HOST: `unix://${socket}` });
    expect(r.code, r.stderr).toBe(0);
    const { stacks } = JSON.parse(r.stdout) as { stacks: { name: string; runtime: string | null; running: string[]; problem?: string }[] };
    expect(stacks.map((s) => s.name)).toEqual(['gone', 'plain']);
    expect(stacks[0]).toMatchObject({ runtime: 'docker', running: [], problem: `Cannot reach the Docker engine: ${socket} does not exist.` });
    expect(stacks[1]).toMatchObject({ running: [] });
    expect(stacks[1]!.problem).toBeUndefined();
    const table = await cli(['stacks'], { OUTBOXCTL_HOME: home });
    expect(table.stdout).toContain(`? (Cannot reach the Docker engine: ${socket} does not exist.)`);
  });
});
