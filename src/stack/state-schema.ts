import { z } from 'zod';
import type { StackState } from './state.js';

// Loaded only when a state file is read: zod costs ~80 ms to import, which `--help` should not pay.

const common = {
  host: z.string().optional(),
  ports: z.record(z.string(), z.number().int().min(0).max(65_535)),
  version: z.string().optional(),
  startedAt: z.string().optional(),
  owner: z.enum(['command', 'service']).optional(),
};

const nativeService = z.object({
  runtime: z.literal('native'),
  pid: z.number().int().positive().optional(),
  startId: z.string().optional(),
  group: z.boolean().optional(),
  ...common,
});

const dockerService = z.object({
  runtime: z.literal('docker'),
  containerId: z.string().optional(),
  image: z.string().optional(),
  engine: z.string().optional(),
  ...common,
});

/** The discriminated union of ServiceState: one member per runtime. */
const serviceState = z.discriminatedUnion('runtime', [nativeService, dockerService]);

const stackState = z.object({
  schemaVersion: z.number().int(),
  stack: z.string(),
  runtime: z.enum(['native', 'docker']).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  services: z.record(z.string(), serviceState),
  endpoints: z.record(z.string(), z.string()),
  networkEndpoints: z.record(z.string(), z.string()).optional(),
  secrets: z.record(z.string(), z.string()),
  tasks: z.record(z.string(), z.string()).optional(),
  sink: z.enum(['connect', 'embedded']).optional(),
  searchEngine: z.enum(['elasticsearch', 'opensearch']).optional(),
});

/** Validates a (migrated) state document; on failure, the first problem as "where: what". */
export function parseState(input: unknown): { ok: true; state: StackState } | { ok: false; problem: string } {
  const result = stackState.safeParse(input);
  if (result.success) return { ok: true, state: result.data as StackState };
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? issue.path.map(String).join('.') : 'the document';
  return { ok: false, problem: `${where}: ${issue.message}` };
}
