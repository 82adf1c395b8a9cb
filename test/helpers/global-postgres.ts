import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { stackPaths } from '../../src/stack/paths.js';
import { ensurePostgres, stopPostgres } from '../../src/stack/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of one real PostgreSQL shared by the test files (database `outbox`). */
    postgresUrl: string;
  }
}

/** One real, embedded PostgreSQL for the whole run, in its own OUTBOXCTL_HOME. */
export default async function setup(project: TestProject) {
  const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-test-pg-'));
  const paths = stackPaths(home, 'tests');
  const pg = await ensurePostgres(paths);
  project.provide('postgresUrl', pg.url);
  return async () => {
    await stopPostgres(paths);
    await rm(home, { recursive: true, force: true });
  };
}
