import type { EndpointName } from '../lib/config.js';
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

/** What the steps share: the stack, the deadline, and what each step found for the next. */
export interface SmokeContext {
  paths: StackPaths;
  env: NodeJS.ProcessEnv;
  cwd: string;
  runtime: RuntimeChoice;
  /** Epoch milliseconds by which every step must be done (`--timeout`). */
  deadline: number;
  signal: AbortSignal;
  /** A word no other parcel holds: the update puts it into the contents, `/parcels?q=` finds it. */
  token: string;
  /** `--token` as given; with OUTBOXCTL_TOKEN and the stack's state it decides `authToken`. */
  tokenFlag?: string;
  /** The bearer token sent to the tracking and auditing servers, resolved by the stack step. */
  authToken?: string;
  upEvents: UpEvents;
  warn(message: string): void;
  endpoints: Partial<Record<EndpointName, string>>;
  /** Services the stack step started, with the id of each instance (stopped again unless --keep). */
  started: { service: ServiceName; key: string }[];
  /** `/stats` before the parcel was written; the stats step expects one more of each. */
  baseline?: StatsCounts;
  /** End offsets of parcel.outbox before the parcel was written: where its records are looked for. */
  startOffsets?: Map<number, bigint>;
  created?: Parcel;
  updated?: Parcel;
  events: SeenEvent[];
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
