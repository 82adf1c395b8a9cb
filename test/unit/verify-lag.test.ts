import { describe, expect, it } from 'vitest';
import type { KafkaRecord, ReadBatch } from '../../src/clients/kafka-reader.js';
import { pipelineLag, slotLagBytes, tailNotSearchable } from '../../src/verify/lag.js';

const record = (offset: number): KafkaRecord => ({
  topic: 'parcel.outbox',
  partition: 0,
  offset: String(offset),
  timestamp: '0',
  key: Buffer.from('p'),
  value: Buffer.from(JSON.stringify({ eventId: `e-${offset}`, eventType: 'ParcelUpdated', payload: {} })),
  headers: {},
});

/** A topic of `n` records on partition 0 whose first `searchable` events have documents; counts the look-ups. */
function fakeTopic(n: number, searchable: number) {
  const probes: bigint[] = [];
  return {
    probes,
    source: {
      topic: 'parcel.outbox',
      index: 'parcel.outbox',
      admin: { watermarks: async () => [{ partition: 0, low: 0n, high: BigInt(n) }] },
      reader: {
        async *batches(positions: Map<number, bigint>): AsyncGenerator<ReadBatch> {
          const at = positions.get(0)!;
          probes.push(at);
          yield { partition: 0, records: [record(Number(at))], next: at + 1n };
        },
      },
      client: {
        count: async (_index: string, query?: Record<string, unknown>) => {
          const id = (query as { ids: { values: string[] } }).ids.values[0]!;
          return Number(id.slice(2)) < searchable ? 1 : 0;
        },
      },
    },
  };
}

describe('verify: lag', () => {
  it('notSearchable without a full read: the records after the last searchable one, by bisection', async () => {
    const t = fakeTopic(1000, 993);
    expect(await tailNotSearchable(t.source)).toBe(7);
    // The last record first, then about log2(1000) probes, not a thousand.
    expect(t.probes[0]).toBe(999n);
    expect(t.probes.length).toBeLessThan(15);
  });

  it('a topic whose last event is searchable is not behind, after one look-up', async () => {
    const t = fakeTopic(1000, 1000);
    expect(await tailNotSearchable(t.source)).toBe(0);
    expect(t.probes).toEqual([999n]);
  });

  it('slot bytes: the named slot, else the only logical slot; null without one', async () => {
    const queries: string[] = [];
    const client = (slots: string[], bytes: number | null) => ({
      query: async (text: string) => {
        queries.push(text);
        return /slot_type = 'logical'/.test(text) ? { rows: slots.map((slot_name) => ({ slot_name })) } : { rows: bytes === null ? [] : [{ bytes }] };
      },
    });
    expect(await slotLagBytes(client([], 4096) as never, 'outboxctl_default')).toBe(4096);
    expect(await slotLagBytes(client(['only'], 10) as never, null)).toBe(10);
    expect(await slotLagBytes(client(['a', 'b'], 10) as never, null)).toBeNull();
    expect(await slotLagBytes(client(['x'], null) as never, 'gone')).toBeNull();
  });

  it('pipelineLag: each figure on its own, null where its source fails or is absent; a given count is taken as it is', async () => {
    const failing = { query: async () => Promise.reject(new Error('connection lost')) };
    const lag = await pipelineLag({ database: { client: failing as never, slot: 's' }, notSearchable: 3 });
    expect(lag).toEqual({ slotBytes: null, sinkRecords: null, notSearchable: 3 });
  });
});
