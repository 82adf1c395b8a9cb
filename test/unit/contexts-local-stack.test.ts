import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/commands/context.js';
import type { Io } from '../../src/lib/output.js';
import { serveLaunch } from '../../src/stack/components/embedded.js';
import type { ServiceContext } from '../../src/stack/components/types.js';
import { stackPaths } from '../../src/stack/paths.js';
import { cli } from '../helpers/cli.js';

/** A config file whose current-context is a remote one, as after `outboxctl context use prod`. */
async function prodCurrent(): Promise<NodeJS.ProcessEnv> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-managed-'));
  const config = path.join(root, 'config', 'outboxctl', 'config.yaml');
  await mkdir(path.dirname(config), { recursive: true });
  await writeFile(
    config,
    ['current-context: prod', 'contexts:', '  prod:', '    tracking:', '      url: https://tracking.prod', '      token: Prod-Tok-1', ''].join('\n'),
  );
  return { HOME: root, XDG_CONFIG_HOME: path.join(root, 'config'), OUTBOXCTL_HOME: path.join(root, 'home') };
}

const io = (env: NodeJS.ProcessEnv): Io => ({
  stdin: Readable.from([]),
  stdout: { write: () => true, isTTY: false },
  stderr: { write: () => true, isTTY: false },
  env,
  cwd: '/',
});

describe("the local stack's servers never run on a context", () => {
  it('the launch sets OUTBOXCTL_CONTEXT=local, whatever the component passes', () => {
    const ctx = { paths: stackPaths('/h', 'default'), ports: { main: 8080 }, host: '127.0.0.1' } as unknown as ServiceContext;
    const launch = serveLaunch(ctx, 'tracking', ['--no-migrate'], { DATABASE_URL: 'postgres://x', OUTBOXCTL_CONTEXT: 'prod' });
    expect(launch.env).toMatchObject({ OUTBOXCTL_CONTEXT: 'local', DATABASE_URL: 'postgres://x', NO_COLOR: '1' });
    expect(launch.args).toContain('--managed');
  });

  it('createContext selects no context for --managed, despite current-context, OUTBOXCTL_CONTEXT or --context', async () => {
    const env = await prodCurrent();
    // Proof the file selects prod for an ordinary command.
    expect((await createContext(io(env), {})).context?.name).toBe('prod');
    const managed = { managed: path.join(env.OUTBOXCTL_HOME!, 'stacks', 'default') };
    expect((await createContext(io(env), managed)).context).toBeUndefined();
    expect((await createContext(io({ ...env, OUTBOXCTL_CONTEXT: 'prod' }), managed)).context).toBeUndefined();
    expect((await createContext(io(env), { ...managed, context: 'prod' })).context).toBeUndefined();
  });
});

describe("the test helpers run on the local stack, whatever the developer's config file makes current", () => {
  it('cli() defaults OUTBOXCTL_CONTEXT=local; a test that sets it (even to undefined) decides', async () => {
    const env = await prodCurrent();
    const local = await cli(['context', 'show'], env);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('No context is selected');
    const unset = await cli(['context', 'show', '--json'], { ...env, OUTBOXCTL_CONTEXT: undefined });
    expect(unset.code, unset.stderr).toBe(0);
    expect(JSON.parse(unset.stdout).name).toBe('prod');
  });

  it("vitest's environment says local too (for suites that spawn bin/outboxctl with process.env)", () => {
    expect(process.env.OUTBOXCTL_CONTEXT).toBe('local');
  });
});
