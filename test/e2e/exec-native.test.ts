import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { nativeStackState } from '../helpers/state.js';

/** `outboxctl exec postgres -- …` natively: this machine's psql reaches the stack's own PostgreSQL through PG* settings. */
describe('outboxctl exec on the native runtime', () => {
  let home: string;
  const outboxctl = (args: string[], stdin = '', env: NodeJS.ProcessEnv = {}) => cli(args, { OUTBOXCTL_HOME: home, ...env }, undefined, stdin);

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-exec-'));
    const up = await outboxctl(['up', '--services', 'postgres']);
    expect(up.code, up.stderr).toBe(0);
  });
  afterAll(async () => {
    if (!home) return;
    await outboxctl(['down', '--volumes']);
    await rm(home, { recursive: true, force: true });
  });

  it("answers `exec postgres -- psql -c 'select 1'` with the stack's database", async () => {
    const r = await outboxctl(['exec', 'postgres', '--', 'psql', '-c', 'select 1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s*\?column\?\s*\n-+\n\s*1\n\(1 row\)/);
    const where = await outboxctl(['exec', 'postgres', '--', 'psql', '-At', '-c', 'select current_database(), current_user']);
    expect(where.stdout).toBe('outbox|postgres\n');
  });

  it('passes stdin through and returns the exit code of the command', async () => {
    expect(await outboxctl(['exec', 'postgres', '--', 'psql', '-At'], 'select 40 + 2;\n')).toMatchObject({ code: 0, stdout: '42\n' });
    expect((await outboxctl(['exec', 'postgres', '--', 'psql', '-c', 'select nope'])).code).toBe(1);
    expect(await outboxctl(['exec', 'postgres', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('sets PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE from the stack', async () => {
    const state = await nativeStackState(home);
    const r = await outboxctl(['exec', 'postgres', '--', 'sh', '-c', 'echo "$PGHOST $PGPORT $PGUSER $PGPASSWORD $PGDATABASE"']);
    expect(r.stdout).toBe(`127.0.0.1 ${state.services.postgres!.ports.main} postgres ${state.secrets.postgresPassword} outbox\n`);
  });

  it('a missing psql is one sentence with the fix, and exit 127 as in a shell', async () => {
    const r = await outboxctl(['exec', 'postgres', '--', 'psql', '-c', 'select 1'], '', { PATH: path.join(home, 'empty-bin') });
    expect(r.code).toBe(127);
    expect(r.stderr).toBe(
      'error: psql was not found on this machine: natively, `outboxctl exec postgres` runs the command here.\n' +
        'hint: Install it (Debian: apt-get install postgresql-client) and run it again.\n',
    );
  });

  it('a service that is not running, an unknown one and a missing command are errors with the fix', async () => {
    const down = await outboxctl(['exec', 'kafka', '--', 'kafka-topics.sh', '--list']);
    expect(down.code).toBe(1);
    expect(down.stderr.split('\n')[0]).toBe('error: Service kafka of stack "default" is not running; start it with `outboxctl up`.');
    const unknown = await outboxctl(['exec', 'zookeeper', '--', 'true']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: Unknown service "zookeeper"\.\nhint: Services: postgres, kafka, /);
    const bare = await outboxctl(['exec', 'postgres']);
    expect(bare.code).toBe(2);
    expect(bare.stderr.split('\n')[0]).toBe('error: Name the command to run after `--`.');
  });
});
