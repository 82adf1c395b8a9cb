import { describe, expect, it } from 'vitest';
import { drainBatch, replayRecords } from '../../bench/lib/records.mjs';
import { COLUMNS, formatValue, markdownTable, type Row, renderMarkdown, renderTable, rowCells } from '../../bench/lib/render.mjs';

const row: Row = {
  n: '4',
  name: 'tail',
  figure: 'tail of 1,000,000 records',
  unit: 'records/s',
  stats: { n: 3, median: 203456.7, p95: null, p99: null, min: 190000, max: 210000 },
  cpu: { n: 3, median: 250000 },
  peer: { label: 'kcat', unit: 'records/s', stats: { median: 638000 }, cpu: null },
  ratio: { value: 0.32, text: '0.32×' },
  target: '≥ 1.0×',
  met: false,
  notes: ['3 rounds'],
};

describe('bench rendering', () => {
  it('formats each unit', () => {
    expect(formatValue(203456.7, 'records/s')).toBe('203,457');
    expect(formatValue(4.56, 'ms')).toBe('4.6');
    expect(formatValue(19.46, 's')).toBe('19.5');
    expect(formatValue(1.234, 's')).toBe('1.23');
    expect(formatValue(null, 'ms')).toBe('—');
  });

  it('lays a row out in the columns', () => {
    const cells = rowCells(row);
    expect(cells).toHaveLength(COLUMNS.length);
    expect(cells).toEqual([
      '4',
      'tail of 1,000,000 records',
      'records/s',
      '203,457',
      '—',
      '—',
      '190,000–210,000',
      '3',
      '250,000',
      'kcat',
      '638,000 records/s',
      '—',
      '0.32×',
      '≥ 1.0×',
      'no',
    ]);
  });

  it('shows a failed row as an error, not as figures', () => {
    const cells = rowCells({ n: '9', name: 'up-fresh', figure: 'up, fresh', unit: 's', target: '≤ 1.2×', error: 'mvn failed' });
    expect(cells[3]).toBe('error (see notes)');
    expect(cells.at(-1)).toBe('error');
  });

  it('aligns the terminal table and escapes markdown cells', () => {
    const lines = renderTable([row, { ...row, n: '10', figure: 'a | b', met: null }]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]!.indexOf('records/s')).toBe(lines[3]!.indexOf('records/s'));
    expect(markdownTable([{ ...row, figure: 'a | b' }])).toContain('a \\| b');
  });

  it('writes the report with the machine, the table and the notes', () => {
    const md = renderMarkdown({
      startedAt: '2026-12-01T00:00:00Z',
      seconds: 600,
      machine: { cores: '2' },
      rows: [row, { ...row, n: '5', error: 'boom', notes: [] }],
      info: ['rss 1 GiB'],
    });
    expect(md).toContain('- cores: 2');
    expect(md).toContain('| # | figure |');
    expect(md).toContain('- 3 rounds');
    expect(md).toContain('**error:** boom');
    expect(md).toContain('- rss 1 GiB');
  });
});

describe('bench records', () => {
  it("writes drain rows in the tracking server's outbox shape", () => {
    const { parcels, events } = drainBatch(3, new Date('2026-01-01T00:00:00Z'));
    expect(parcels).toHaveLength(3);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    const payload = JSON.parse(events[0]!.payload);
    expect(payload).toEqual({ parcel: parcels[0], changed: ['contents', 'status'] });
    expect(events[0]!.aggregateid).toBe(parcels[0]!.id);
    expect(payload.parcel.createdAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('copies a real record with fresh event and parcel ids', () => {
    const sample = { key: 'p-1', value: JSON.stringify({ eventId: 'e-1', aggregateId: 'p-1', payload: { parcel: { id: 'p-1' } } }) };
    const lines = replayRecords(sample, 2);
    const [key, value] = lines[0]!.split('\t');
    const v = JSON.parse(value!);
    expect(key).toBe(v.aggregateId);
    expect(v.payload.parcel.id).toBe(v.aggregateId);
    expect(v.eventId).not.toBe('e-1');
    expect(lines[1]).not.toBe(lines[0]);
    expect(() => replayRecords({ key: 'k', value: '{}' }, 1)).toThrow(/eventId/);
  });
});
