/**
 * What the load generator knows for sure: every write the tracking server acknowledged.
 * The tracking API returns no event id, so a write is keyed by parcel id + version (one
 * outbox row per effective write makes that pair unique).
 */

export interface AckedWrite {
  parcelId: string;
  version: number;
  kind: 'create' | 'update';
  /** The Idempotency-Key of a create. */
  idempotencyKey?: string;
  /** How many HTTP attempts the write took (1 = no retry). */
  attempts: number;
  ackedAtMs: number;
}

/** `<parcel id>@<version>`: the ledger's key of a write, and of an event (aggregateId + payload.parcel.version). */
export const writeKey = (parcelId: string, version: number): string => `${parcelId}@${version}`;

export interface LedgerStats {
  acked: number;
  creates: number;
  updates: number;
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Requests sent again after a connection error, a timeout or a 5xx. */
  retries: number;
  /** Updates whose retry met 412 at the next version: the first attempt committed, its answer was lost. */
  ambiguousUpdates: number;
  /** Logical writes still unacknowledged at the drain deadline. */
  abandoned: number;
  /** Answers no retry explains (4xx other than a 412 after a retry): each is a finding. */
  unexpected: string[];
  /** Failures seen, by class (`ECONNREFUSED`, `timeout`, `HTTP 503`, …). */
  failures: Record<string, number>;
}

/** The acknowledged writes of one load run, with its counters. */
export class Ledger {
  readonly writes = new Map<string, AckedWrite>();
  readonly stats: LedgerStats = { acked: 0, creates: 0, updates: 0, requests: 0, retries: 0, ambiguousUpdates: 0, abandoned: 0, unexpected: [], failures: {} };

  ack(write: AckedWrite): void {
    const key = writeKey(write.parcelId, write.version);
    const seen = this.writes.get(key);
    if (seen) {
      // Two acknowledgements of one version can only be the replay of one create (same key, same parcel).
      if (seen.idempotencyKey === undefined || seen.idempotencyKey !== write.idempotencyKey) {
        this.unexpected(`two acknowledged writes for ${key} (${seen.kind} and ${write.kind})`);
      }
      return;
    }
    this.writes.set(key, write);
    this.stats.acked++;
    if (write.kind === 'create') this.stats.creates++;
    else this.stats.updates++;
  }

  failure(kind: string): void {
    this.stats.failures[kind] = (this.stats.failures[kind] ?? 0) + 1;
  }

  unexpected(what: string): void {
    if (this.stats.unexpected.length < 50) this.stats.unexpected.push(what);
  }

  /** Creates by idempotency key, as the client saw them answered. */
  createsByKey(): Map<string, string> {
    const out = new Map<string, string>();
    for (const w of this.writes.values()) if (w.kind === 'create' && w.idempotencyKey) out.set(w.idempotencyKey, w.parcelId);
    return out;
  }
}
