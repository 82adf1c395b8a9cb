import type { HttpTarget, KafkaTarget } from '../lib/targets.js';
import type { Parcel } from '../servers/tracking/parcel.js';
import type { ServiceName } from '../stack/components/types.js';
import type { StackPaths } from '../stack/paths.js';
import type { RuntimeChoice, UpEvents } from '../stack/up.js';
import type { OutboxEvent } from '../tail/outbox.js';

/** An outbox event as smoke read it from parcel.outbox, with where it was. */
export interface SeenEvent extends OutboxEvent {
  partition: number;
  offset: string;
  version: number | null;
}

/** How smoke reaches each system of the pipeline, with its auth (tokens included). */
export interface SmokeTargets {
  kafka?: KafkaTarget;
  connect?: HttpTarget;
  elasticsearch?: HttpTarget;
  tracking?: HttpTarget;
  auditing?: HttpTarget;
}

/** A search-engine document the run left behind. */
export interface LeftDocument {
  index: string;
  id: string;
}

/** What the steps share: the stack or the context, the deadline, and what each step found for the next. */
export interface SmokeContext {
  paths: StackPaths;
  /**
   * Set when smoke runs against a deployed pipeline through a context: then nothing is started or
   * stopped, no local stack state is read, and `targets` are resolved before the first step.
   */
  external?: { context: string };
  env: NodeJS.ProcessEnv;
  cwd: string;
  runtime: RuntimeChoice;
  /** Epoch milliseconds by which every step must be done (`--timeout`). */
  deadline: number;
  signal: AbortSignal;
  /** A word no other parcel holds: the update puts it into the contents, `/parcels?q=` finds it. */
  token: string;
  /** `--token` as given; with OUTBOXCTL_TOKEN and the stack's state it decides the targets' tokens. */
  tokenFlag?: string;
  upEvents: UpEvents;
  warn(message: string): void;
  /** Filled by the stack step from the stack's endpoints, or given whole under a context. */
  targets: SmokeTargets;
  /** Services the stack step started, with the id of each instance (stopped again unless --keep). */
  started: { service: ServiceName; key: string }[];
  /** `/stats` before the parcel was written; the stats step expects one more of each. */
  baseline?: StatsCounts;
  /** End offsets of parcel.outbox before the parcel was written: where its records are looked for. */
  startOffsets?: Map<number, bigint>;
  created?: Parcel;
  updated?: Parcel;
  events: SeenEvent[];
  /** The documents the steps saw in the search engine: what the run's parcel left there. */
  documents: LeftDocument[];
}

/** The counts of `/stats` that smoke compares. */
export interface StatsCounts {
  byType: Record<string, number>;
  byStatus: Record<string, number>;
}

/** A named step of the run; resolves to what it saw, throws why it failed. */
export interface SmokeStep {
  name: string;
  title: string;
  run(ctx: SmokeContext): Promise<string>;
}

/** A failed step: one sentence, and whether a wait ran out or an answer was wrong. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'assertion' = 'assertion',
  ) {
    super(message);
  }
}

/** Milliseconds left before the run's deadline. */
export const remainingMs = (ctx: Pick<SmokeContext, 'deadline'>): number => Math.max(0, ctx.deadline - Date.now());

/** What the run works on, for messages: `stack "default"` or `context "staging"`. */
export const pipelineLabel = (ctx: Pick<SmokeContext, 'paths' | 'external'>): string =>
  ctx.external ? `context "${ctx.external.context}"` : `stack "${ctx.paths.name}"`;
