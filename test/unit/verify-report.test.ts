import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/lib/errors.js';
import { notesOf, problemsOf, renderReport, type VerifyReport, type VerifyStages } from '../../src/verify/report.js';
import { parseSettle, parseWindow } from '../../src/verify/window.js';

const none = { count: 0, first: [] };

function stages(over: { [K in keyof VerifyStages]?: Partial<VerifyStages[K]> } = {}): VerifyStages {
  return {
    outbox: {
      kept: true,
      rows: 3,
      table: 'outbox',
      oldest: '2026-12-01T10:00:00.000Z',
      newest: '2026-12-01T11:00:00.000Z',
      prunedBefore: null,
      newerOnTopic: 0,
      ...over.outbox,
    },
    topic: {
      topic: 'parcel.outbox',
      records: 3,
      distinct: 3,
      repeated: 0,
      missing: none,
      extra: none,
      orderViolations: none,
      unrecognized: 0,
      retainedFrom: null,
      ...over.topic,
    },
    events: { index: 'parcel.outbox', source: 'outbox', documents: 3, missing: none, extra: none, ...over.events },
    parcels: { index: 'parcels', projected: true, rows: 1, documents: 1, missing: none, stale: none, extra: none, ...over.parcels },
  };
}

function report(s: VerifyStages, settledMs = 0): VerifyReport {
  const problems = problemsOf(s);
  return {
    consistent: problems.length === 0,
    window: { from: null, to: '2026-12-01T12:00:00.000Z' },
    settledMs,
    stages: s,
    lag: { slotBytes: 2048, sinkRecords: 0, notSearchable: null },
    problems,
    notes: notesOf(s),
  };
}

describe('verify: problems and notes', () => {
  it('a consistent pipeline has no problems, and says so on its last line', () => {
    const r = report(stages());
    expect(r.problems).toEqual([]);
    const text = renderReport(r);
    expect(text.split('\n').at(-1)).toBe('consistent');
    expect(text).toContain('topic    3 records on parcel.outbox, 3 distinct, 0 repeated, 0 missing, 0 extra, 0 out of order');
    expect(text).toContain('lag      slot 2.0 KiB behind, sink 0 records behind, searchable unknown');
  });

  it('repeats are a note (normal after a crash), never a problem', () => {
    const r = report(stages({ topic: { records: 5, distinct: 3, repeated: 2 } }));
    expect(r.consistent).toBe(true);
    expect(r.notes[0]).toMatch(/^2 records on parcel.outbox repeat events already on it: normal after a crash under at-least-once delivery/);
  });

  it('each finding names its ids, with how many there are beyond the sample', () => {
    const missing = { count: 25, first: Array.from({ length: 20 }, (_, i) => `e-${i}`) };
    const r = report(
      stages({
        events: { missing },
        topic: { orderViolations: { count: 1, first: [{ key: 'p-1', eventId: 'e-9', version: 2, after: 3 }] } },
        parcels: { stale: { count: 1, first: [{ id: 'p-1', version: 2, expected: 3 }] } },
      }),
      3_000,
    );
    expect(r.consistent).toBe(false);
    expect(r.problems).toEqual([
      '1 record on parcel.outbox is out of order for its key: key p-1: event e-9 has version 2 after version 3',
      `25 events have no document in parcel.outbox: ${missing.first.join(', ')} (the first 20 of 25)`,
      "1 document in parcels is not at the parcel's version: p-1 (version 2, expected 3)",
    ]);
    expect(renderReport(r).split('\n').at(-1)).toBe('NOT consistent: 3 problems after waiting 3.0s for in-flight events');
  });

  it('an outbox that keeps no rows makes the topic the source, and says so', () => {
    const r = report(stages({ outbox: { kept: false, rows: 0, oldest: null }, events: { source: 'topic' } }));
    expect(r.notes).toContain('the outbox keeps no rows (deleted after insert, or pruned): parcel.outbox is the source of truth for parcel.outbox');
    expect(renderReport(r)).toContain('outbox   not kept (outbox has no rows)');
  });
});

describe('verify: window and settle', () => {
  const now = new Date('2026-12-01T12:00:00Z');

  it('defaults to from the beginning up to now; --since takes a duration or a timestamp', () => {
    expect(parseWindow({}, now)).toEqual({ fromMs: null, toMs: now.getTime() });
    expect(parseWindow({ fromBeginning: true }, now)).toEqual({ fromMs: null, toMs: now.getTime() });
    expect(parseWindow({ since: '10m' }, now).fromMs).toBe(now.getTime() - 600_000);
    expect(parseWindow({ since: '2026-12-01T11:00:00Z' }, now).fromMs).toBe(now.getTime() - 3_600_000);
  });

  it('refuses both flags at once and a start in the future', () => {
    expect(() => parseWindow({ since: '10m', fromBeginning: true }, now)).toThrow(UsageError);
    expect(() => parseWindow({ since: '2027-01-01T00:00:00Z' }, now)).toThrow('lies in the future');
  });

  it('settle: 30s by default, 0 judges at once, anything else is a duration', () => {
    expect(parseSettle(undefined)).toBe(30_000);
    expect(parseSettle('0')).toBe(0);
    expect(parseSettle('3s')).toBe(3_000);
    expect(() => parseSettle('soon')).toThrow(UsageError);
  });
});
