import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { composeDocument, secretVariable } from '../../src/compose/export.js';
import { registerComponent } from '../../src/stack/components/index.js';
import type { Component, ServiceName } from '../../src/stack/components/types.js';
import { BIN, ROOT } from '../helpers/cli.js';

const CHECKED_IN = path.join(ROOT, 'compose', 'docker-compose.yml');
const REGENERATE =
  'compose/docker-compose.yml differs from `outboxctl compose export`: run `npm run build && npx outboxctl compose export --output compose/docker-compose.yml` and commit the result';

/** The built CLI as a real process; stdout byte for byte (execa would strip its last newline). */
async function outboxctl(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await execa(BIN, args, { cwd: ROOT, env: { NO_COLOR: '1', ...env }, reject: false, stripFinalNewline: false });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

describe('outboxctl compose export', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('prints the checked-in compose/docker-compose.yml byte for byte, whatever the stack and the environment', async () => {
    const expected = await readFile(CHECKED_IN, 'utf8');
    // Neither the stack nor a secret's variable in the environment changes the file.
    const result = await outboxctl(['--stack', 'elsewhere', 'compose', 'export'], { OUTBOXCTL_STACK: 'other', POSTGRES_PASSWORD: 'not-in-the-file' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout, REGENERATE).toBe(expected);
    expect(result.stdout.endsWith('\n')).toBe(true);
  });

  it('--output writes the same bytes atomically, says where on stderr, and warns when ./connect is not beside the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-compose-'));
    dirs.push(dir);
    const file = path.join(dir, 'docker-compose.yml');
    const result = await outboxctl(['compose', 'export', '--output', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`wrote ${file}`);
    expect(result.stderr).toContain(`warning: ${file} builds from ./connect, which is not beside it`);
    expect(await readFile(file, 'utf8')).toBe(await readFile(CHECKED_IN, 'utf8'));
    // No temporary file is left beside it.
    expect(await readdir(dir)).toEqual(['docker-compose.yml']);
  });

  it('--output into a missing directory is a user error: exit 1, one sentence and a hint, nothing written', async () => {
    const file = path.join(os.tmpdir(), `outboxctl-missing-${process.pid}`, 'docker-compose.yml');
    const result = await outboxctl(['compose', 'export', '--output', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot write ${file}: its directory ${path.dirname(file)} does not exist.`);
    expect(result.stderr).toContain('hint: ');
    expect(existsSync(path.dirname(file))).toBe(false);
  });
});

describe('composeDocument', () => {
  it('names secrets after their Compose variables', () => {
    expect(secretVariable('postgresPassword')).toBe('POSTGRES_PASSWORD');
    expect(secretVariable('kafkaCluster')).toBe('KAFKA_CLUSTER');
  });

  it('turns secrets into ${VAR:-default}, doubles literal $, notes values derived from a secret, and keeps start order and dependencies', async () => {
    const probe: Component = {
      name: 'probe' as ServiceName,
      summary: 'a container section of the test',
      version: '1',
      dependsOn: ['kafka'],
      ports: [{ name: 'main', preferred: 18_766, container: 80 }],
      readiness: { describe: 'nothing', check: { kind: 'port' } },
      endpointNames: [],
      endpoints: async () => ({}),
      native: { stopSignal: 'SIGTERM', stopGraceMs: 1_000, launch: async () => ({ command: 'true', args: [] }) },
      container: {
        image: 'example/probe:1.0',
        command: () => ['sh', '-c', 'echo $HOME'],
        env: async (ctx) => ({
          TOKEN: await ctx.secret('probeToken'),
          TOKEN_URL: `http://user:${encodeURIComponent(await ctx.secret('probeToken'))}@x/`,
          TOKEN_LENGTH: String((await ctx.secret('hashedOnly')).length),
          KAFKA: ctx.endpoints.kafka!,
          STACK: ctx.stack,
        }),
        stopSignal: 'SIGINT',
        stopGraceMs: 1_500,
      },
    };
    const remove = registerComponent(probe);
    try {
      const text = await composeDocument();
      expect(text).toContain('TOKEN: ${PROBE_TOKEN:-outbox}');
      expect(text).toContain('TOKEN_URL: http://user:${PROBE_TOKEN:-outbox}@x/');
      expect(text).toContain('echo $$HOME');
      expect(text).toContain('KAFKA: kafka:19092');
      expect(text).toContain('STACK: compose');
      expect(text).toMatch(/^# {3}PROBE_TOKEN {2}default "outbox"/m);
      expect(text).toMatch(/^# {3}POSTGRES_PASSWORD {2}default "outbox"/m);
      // Only the variables the file uses are documented; a secret used only hashed is not one.
      expect(text).not.toContain('HASHED_ONLY');
      expect(text).toMatch(/^# {3}kafka CLUSTER_ID$/m);
      expect(text).toContain('stop_grace_period: 1500ms');
      expect(text).toContain('- 127.0.0.1:18766:80');
      const order = ['postgres', 'kafka', 'elasticsearch', 'connect', 'probe'].map((s) => text.indexOf(`\n  ${s}:\n`));
      expect(order.every((at) => at > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(text.slice(text.indexOf('\n  probe:\n'))).toMatch(/depends_on:\n\s+- kafka\n/);
    } finally {
      remove();
    }
  });

  it('is deterministic', async () => {
    expect(await composeDocument({ env: { POSTGRES_PASSWORD: 'x' } })).toBe(await composeDocument());
  });
});
