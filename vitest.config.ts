import { defineConfig } from 'vitest/config';

const shared = {
  // The local stack, whatever current-context the developer's config file names: a suite that
  // means a context passes --context or its own OUTBOXCTL_CONTEXT (test/helpers/cli.ts does the same).
  env: { OUTBOXCTL_CONTEXT: 'local' },
  testTimeout: 120_000,
  hookTimeout: 180_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...shared,
          name: 'fast',
          include: ['test/unit/**/*.test.{ts,tsx}', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-postgres.ts'],
        },
      },
      {
        // Stacks on the seed's default ports: their files run one after another.
        test: {
          ...shared,
          name: 'stack',
          include: ['test/stack/**/*.test.ts'],
          fileParallelism: false,
        },
      },
      {
        // Faults injected into one real stack under load (issue 15): `npm run test:faults`, scenarios one after another.
        test: {
          ...shared,
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 360_000,
          hookTimeout: 300_000,
        },
      },
      {
        // External clusters (issue 16): TLS/SASL Kafka, basic-auth Connect, a TLS search proxy, PostgreSQL
        // with ssl=on, OpenSearch: `npm run test:external`, on free ports, one file after another.
        test: {
          ...shared,
          name: 'external',
          include: ['test/external/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 300_000,
        },
      },
      {
        // The Docker runtime on a real engine: run by `npm run test:docker` where one answers (CI starts Podman).
        test: {
          ...shared,
          name: 'docker',
          include: ['test/docker/**/*.test.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
