import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Coverage } from '../../src/verify/compare.js';
import {
  analyzeTopic,
  compareParcels,
  diffTables,
  EventsMatcher,
  earliestRows,
  sample,
  staleSample,
  TOPIC_KEY,
  TOPIC_VERSION,
  union,
  without,
} from '../../src/verify/compare.js';
import { IdCodec, IdTable, KeyIndex } from '../../src/verify/ids.js';

const codec = new IdCodec();
const table = (ids: (string | [string, number])[], columns = 0): IdTable => {
  const t = new IdTable(codec, columns);
  for (const entry of ids) {
    const [id, time] = typeof entry === 'string' ? [entry, 0] : entry;
    t.push(id, time);
  }
  return t;
};
const idsOf = (t: IdTable): string[] => Array.from({ length: t.length }, (_, row) => t.id(row));

// UUIDs whose order is obvious: u(1) < u(2) < …
const u = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** A topic table of records [eventId, key, version], in read order, all on partition 0. */
function topic(records: [string, string, number][]): { t: IdTable; keys: KeyIndex } {
  const t = new IdTable(codec, 2);
  const keys = new KeyIndex(codec);
  for (const [id, key, version] of records) {
    const row = t.push(id, 0);
    t.ints[TOPIC_VERSION]![row] = version;
    t.ints[TOPIC_KEY]![row] = keys.intern(key, 0);
  }
  return { t, keys };
}

describe('verify: ids', () => {
  it('round-trips UUIDs and any other text, and orders UUIDs as their lowercase text', () => {
    const ids = [randomUUID(), randomUUID(), randomUUID(), 'not-a-uuid', 'p-1', ''];
    const t = table(ids);
    expect(idsOf(t)).toEqual(ids);
    const uuids = table(Array.from({ length: 200 }, () => randomUUID()));
    uuids.sort();
    const sorted = Array.from({ length: uuids.length }, (_, k) => uuids.id(uuids.rowAt(k)));
    expect(sorted).toEqual([...sorted].sort());
  });

  it('finds ids by binary search, also after rows arrive out of order', () => {
    const t = table([u(5), u(1), u(3)]);
    expect(t.find(IdTable.probe(codec, u(3)), 0)).toBe(2);
    expect(t.find(IdTable.probe(codec, u(4)), 0)).toBe(-1);
    t.push(u(4), 0);
    expect(t.find(IdTable.probe(codec, u(4)), 0)).toBe(3);
  });

  it('interns a key once per partition', () => {
    const keys = new KeyIndex(codec, 4);
    const a = keys.intern(u(1), 0);
    for (let i = 0; i < 1000; i++) keys.intern(u(100 + i), 0);
    expect(keys.intern(u(1), 0)).toBe(a);
    expect(keys.intern(u(1), 1)).not.toBe(a);
    expect(keys.key(a)).toBe(u(1));
    expect(keys.size).toBe(1002);
  });
});

describe('verify: missing and extra by merge', () => {
  it('names ids of the source the sink lacks and ids of the sink without a source, each once', () => {
    const source = table([u(1), u(2), u(3), u(5)]);
    // The topic has u(2) twice (a repeat) and u(9) that no outbox row has.
    const sink = table([u(9), u(2), u(1), u(2)]);
    const { missing, extra } = diffTables(source, sink);
    expect(idsOf(missing)).toEqual([u(3), u(5)]);
    expect(idsOf(extra)).toEqual([u(9)]);
  });

  it('judges only rows in the time each side covers (pruned rows, expired records)', () => {
    const outbox = table([
      [u(1), 100],
      [u(2), 200],
    ]);
    const records = table([
      [u(0), 50],
      [u(2), 200],
      [u(7), 300],
    ]);
    // The topic holds events from 150 on (u(1) expired); the outbox from 100 on (u(0) was pruned).
    const { missing, extra } = diffTables(outbox, records, { from: 150, to: Infinity }, { from: 100, to: Infinity });
    expect(idsOf(missing)).toEqual([]);
    expect(idsOf(extra)).toEqual([u(7)]);
  });

  it('agrees with a Set-based reference on arbitrary inputs', () => {
    const pool = Array.from({ length: 30 }, (_, i) => u(i));
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pool)), fc.array(fc.constantFrom(...pool)), (a, b) => {
        const { missing, extra } = diffTables(table(a), table(b));
        expect(idsOf(missing).sort()).toEqual([...new Set(a.filter((x) => !b.includes(x)))].sort());
        expect(idsOf(extra).sort()).toEqual([...new Set(b.filter((x) => !a.includes(x)))].sort());
      }),
    );
  });

  it('without and union keep pending tables compact and distinct', () => {
    const pending = table([u(1), u(2), u(3)]);
    expect(idsOf(without(pending, table([u(2)])))).toEqual([u(1), u(3)]);
    expect(idsOf(union(table([u(3), u(1)]), table([u(1), u(2), u(2)])))).toEqual([u(1), u(2), u(3)]);
  });

  it('samples the earliest ids by event time, at most 20', () => {
    const t = table(Array.from({ length: 50 }, (_, i): [string, number] => [u(i), 1000 - i]));
    const s = sample(t);
    expect(s.count).toBe(50);
    expect(s.first).toHaveLength(20);
    expect(s.first[0]).toBe(u(49));
    expect(
      earliestRows(
        table([
          [u(1), Number.NaN],
          [u(2), 5],
        ]),
      ),
    ).toEqual([1, 0]);
  });
});

describe('verify: event documents against their source, as the pages arrive', () => {
  const match = (outbox: IdTable, records: IdTable, docs: [string, number][], coverage: Coverage) => {
    const m = new EventsMatcher(outbox, records, coverage);
    for (const [id, time] of docs) m.add(id, time);
    const { missing, extra } = m.result();
    return { missing: idsOf(missing), extra: idsOf(extra), documents: m.documents };
  };

  it('with the outbox kept: rows without a document are missing, documents without a row extra', () => {
    const outbox = table([
      [u(1), 100],
      [u(2), 200],
      [u(3), 300],
    ]);
    const records = table([
      [u(1), 100],
      [u(2), 200],
      [u(3), 300],
      [u(2), 200],
    ]);
    const r = match(
      outbox,
      records,
      [
        [u(3), 300],
        [u(1), 100],
        [u(8), 250],
      ],
      { kept: true, outboxFromMs: 100, outboxToMs: Infinity, topicFromMs: -Infinity },
    );
    expect(r).toEqual({ missing: [u(2)], extra: [u(8)], documents: 3 });
  });

  it('before the oldest outbox row (pruned) the topic is the source; with no rows kept, everywhere', () => {
    const outbox = table([[u(5), 500]]);
    const records = table([
      [u(1), 100],
      [u(2), 200],
      [u(5), 500],
    ]);
    // u(2) was pruned from the outbox and is on the topic: its missing document counts; u(9) has no record.
    const pruned = match(
      outbox,
      records,
      [
        [u(1), 100],
        [u(5), 500],
        [u(9), 150],
      ],
      { kept: true, outboxFromMs: 500, outboxToMs: Infinity, topicFromMs: -Infinity },
    );
    expect(pruned).toMatchObject({ missing: [u(2)], extra: [u(9)] });
    const notKept = match(
      table([]),
      records,
      [
        [u(1), 100],
        [u(9), 150],
      ],
      { kept: false, outboxFromMs: Infinity, outboxToMs: -Infinity, topicFromMs: -Infinity },
    );
    expect(notKept).toMatchObject({ missing: [u(2), u(5)], extra: [u(9)] });
  });

  it('events newer than the newest outbox row (delete-after-insert switched on since) are judged against the topic', () => {
    const outbox = table([[u(1), 100]]);
    const records = table([
      [u(1), 100],
      [u(2), 200],
      [u(3), 300],
    ]);
    const coverage = { kept: true, outboxFromMs: 100, outboxToMs: 100, topicFromMs: -Infinity };
    // u(2) has its document; u(3) has none; u(9) has no record at all.
    const r = match(
      outbox,
      records,
      [
        [u(1), 100],
        [u(2), 200],
        [u(9), 250],
      ],
      coverage,
    );
    expect(r).toMatchObject({ missing: [u(3)], extra: [u(9)] });
    // And the records without rows are no topic extras there.
    expect(idsOf(diffTables(outbox, records, { from: -Infinity, to: Infinity }, { from: 100, to: 101 }).extra)).toEqual([]);
  });

  it('documents older than what the topic retains are not judged against it', () => {
    const records = table([[u(5), 500]]);
    const r = match(
      table([]),
      records,
      [
        [u(1), 100],
        [u(5), 500],
      ],
      { kept: false, outboxFromMs: Infinity, outboxToMs: -Infinity, topicFromMs: 400 },
    );
    expect(r).toMatchObject({ missing: [], extra: [] });
  });

  it('agrees with the table diff it replaces', () => {
    const pool = Array.from({ length: 25 }, (_, i) => u(i));
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...pool)), fc.array(fc.constantFrom(...pool)), fc.uniqueArray(fc.constantFrom(...pool)), (o, t, d) => {
        const coverage = { kept: true, outboxFromMs: -Infinity, outboxToMs: Infinity, topicFromMs: -Infinity };
        const r = match(
          table(o),
          table(t),
          d.map((id) => [id, 0]),
          coverage,
        );
        const reference = diffTables(table(o), table(d));
        expect(r.missing).toEqual(idsOf(reference.missing));
        expect(r.extra).toEqual(idsOf(reference.extra));
      }),
    );
  });
});

describe('verify: repeats and per-key order', () => {
  it('a redelivery after a crash is a repeat, not an order violation', () => {
    // Debezium re-sent events 2 and 3 after a restart, then went on with 4.
    const { t, keys } = topic([
      [u(1), 'p', 1],
      [u(2), 'p', 2],
      [u(3), 'p', 3],
      [u(2), 'p', 2],
      [u(3), 'p', 3],
      [u(4), 'p', 4],
    ]);
    expect(analyzeTopic(t, keys)).toEqual({ records: 6, distinct: 4, repeated: 2, orderViolations: { count: 0, first: [] } });
  });

  it('a lower version after a higher one on the same key is a violation, named with both versions', () => {
    const { t, keys } = topic([
      [u(1), 'p', 1],
      [u(3), 'p', 3],
      [u(10), 'q', 1],
      [u(2), 'p', 2],
      [u(11), 'q', 2],
    ]);
    expect(analyzeTopic(t, keys).orderViolations).toEqual({ count: 1, first: [{ key: 'p', eventId: u(2), version: 2, after: 3 }] });
  });

  it('the first delivery of an event counts, whatever its id order', () => {
    // The repeat of u(9) (version 1) comes after version 2: with repeats removed, nothing is out of order.
    const { t, keys } = topic([
      [u(9), 'p', 1],
      [u(1), 'p', 2],
      [u(9), 'p', 1],
    ]);
    const a = analyzeTopic(t, keys);
    expect(a.repeated).toBe(1);
    expect(a.orderViolations.count).toBe(0);
  });

  it('records without a version are left out of the order check', () => {
    const { t, keys } = topic([
      [u(1), 'p', 5],
      [u(2), 'p', -1],
    ]);
    expect(analyzeTopic(t, keys).orderViolations.count).toBe(0);
  });
});

describe('verify: parcels against their projection', () => {
  const parcels = (entries: [string, number][]) => {
    const t = new IdTable(codec, 1);
    for (const [id, version] of entries) t.push(id, 0, version);
    return t;
  };

  it('a document behind its row is stale (version and expected), a row without one missing, a document without a row extra', () => {
    const rows = parcels([
      [u(1), 3],
      [u(2), 1],
      [u(4), 2],
    ]);
    const docs = parcels([
      [u(4), 2],
      [u(1), 2],
      [u(5), 1],
    ]);
    const diff = compareParcels(rows, docs);
    expect(idsOf(diff.missing)).toEqual([u(2)]);
    expect(idsOf(diff.extra)).toEqual([u(5)]);
    expect(staleSample(diff.stale)).toEqual({ count: 1, first: [{ id: u(1), version: 2, expected: 3 }] });
  });

  it('every parcel at its latest version is consistent', () => {
    const rows = parcels([
      [u(1), 3],
      [u(2), 1],
    ]);
    const diff = compareParcels(
      rows,
      parcels([
        [u(2), 1],
        [u(1), 3],
      ]),
    );
    expect([diff.missing.length, diff.stale.length, diff.extra.length]).toEqual([0, 0, 0]);
  });
});
