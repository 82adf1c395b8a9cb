import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/cli.js';

/**
 * compose/docker-compose.yml through a real Compose implementation: Debian's docker-compose 1.29
 * (`config` validates against the Compose schema and renders the interpolation; it needs no engine).
 * Missing, it fails: the check is part of the suite, not optional.
 */
const COMPOSE_DIR = path.join(ROOT, 'compose');
const FILE = path.join(COMPOSE_DIR, 'docker-compose.yml');

/** docker-compose with only the environment given (none of the caller's POSTGRES_PASSWORD and friends). */
async function dockerCompose(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await execa('docker-compose', ['--project-directory', COMPOSE_DIR, '-f', FILE, ...args], {
    cwd: COMPOSE_DIR,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    extendEnv: false,
    reject: false,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

interface Rendered {
  services: Record<string, { image: string; build?: { context: string }; environment?: Record<string, string>; ports?: unknown[]; depends_on?: unknown }>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
}

describe('compose/docker-compose.yml in a real Compose implementation', () => {
  beforeAll(async () => {
    const found = await execa('docker-compose', ['version'], { reject: false });
    if (found.exitCode !== 0) {
      throw new Error(
        "docker-compose is not installed: `apt-get install -y docker-compose` (Debian's 1.29.2) installs the Compose implementation this test runs",
      );
    }
  });

  it('passes `docker-compose config -q` without a warning', async () => {
    const result = await dockerCompose(['config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('renders the four services with the interpolation defaults, and a variable from the environment wins', async () => {
    const services = await dockerCompose(['config', '--services']);
    expect(services.stdout.split('\n').sort()).toEqual(['connect', 'elasticsearch', 'kafka', 'postgres']);

    const byDefault = parse((await dockerCompose(['config'])).stdout) as Rendered;
    expect(byDefault.services.postgres!.environment).toMatchObject({ POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'outbox' });
    expect(byDefault.services.connect!.build!.context).toBe(path.join(COMPOSE_DIR, 'connect'));
    expect(existsSync(path.join(byDefault.services.connect!.build!.context, 'Dockerfile'))).toBe(true);
    expect(byDefault.services.connect!.environment).toMatchObject({ CONNECT_BOOTSTRAP_SERVERS: 'kafka:19092' });
    expect(Object.keys(byDefault.volumes).sort()).toEqual(['elasticsearch-data', 'kafka-data', 'postgres-data']);
    expect(Object.keys(byDefault.networks)).toEqual(['outboxctl']);
    // Published on the loopback address only.
    for (const [name, service] of Object.entries(byDefault.services)) {
      for (const port of service.ports ?? []) expect(JSON.stringify(port), name).toMatch(/127\.0\.0\.1/);
    }

    const withSecret = parse((await dockerCompose(['config'], { POSTGRES_PASSWORD: 's3cret' })).stdout) as Rendered;
    expect(withSecret.services.postgres!.environment!.POSTGRES_PASSWORD).toBe('s3cret');
    // `:-`: an empty variable takes the default too.
    const empty = parse((await dockerCompose(['config'], { POSTGRES_PASSWORD: '' })).stdout) as Rendered;
    expect(empty.services.postgres!.environment!.POSTGRES_PASSWORD).toBe('outbox');
  });
});
