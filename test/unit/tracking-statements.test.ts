import { describe, expect, it } from 'vitest';
import { createdParcel, createStatement, deleteEventStatement, storedAnswerStatement } from '../../src/servers/tracking/statements.js';

const placeholders = (text: string) => new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));

describe('create statements', () => {
  const key = { key: 'k-1', hash: 'a'.repeat(64) };
  const plain = createStatement('p-id', 'e-id', 'box');
  const keyed = createStatement('p-id', 'e-id', 'box', key);

  it('bind every placeholder they use, and nothing more', () => {
    for (const q of [plain, keyed, storedAnswerStatement('k-1'), deleteEventStatement('e-id')]) {
      const used = placeholders(q.text);
      expect([...used].sort()).toEqual(q.values.map((_, i) => i + 1));
    }
  });

  it('are named statements, one name per text', () => {
    expect(plain.name).not.toBe(keyed.name);
    expect(createStatement('x', 'y', 'z').text).toBe(plain.text);
    expect(createStatement('x', 'y', 'z', { key: 'other', hash: 'b'.repeat(64) })).toMatchObject({ name: keyed.name, text: keyed.text });
  });

  it('put the parcel id, contents, event id and key where the text expects them', () => {
    expect(plain.values).toEqual(['p-id', 'box', 'e-id']);
    expect(keyed.values).toEqual(['p-id', 'box', 'e-id', 'k-1', key.hash]);
  });

  it('are single statements with no transaction control of their own', () => {
    for (const q of [plain, keyed]) {
      expect(q.text).not.toMatch(/;|\bBEGIN\b|\bCOMMIT\b/i);
      expect(q.text).toMatch(/INSERT INTO parcel[\s\S]*INSERT INTO outbox/);
    }
  });

  it('write the parcel only when the key was claimed', () => {
    expect(keyed.text).toMatch(/ON CONFLICT \(key\) DO NOTHING/);
    expect(keyed.text).toMatch(/INSERT INTO parcel[^;]*SELECT[^;]*FROM k\b/);
    expect(plain.text).not.toMatch(/idempotency_key/);
  });
});

describe('createdParcel', () => {
  it('maps a created row to the answer, the times as PostgreSQL formatted them', () => {
    expect(
      createdParcel({
        id: 'p-id',
        contents: 'box',
        status: 'registered',
        version: 1,
        created_at: '2026-12-01T22:30:00.123Z',
        updated_at: '2026-12-01T22:30:00.123Z',
      }),
    ).toEqual({ id: 'p-id', contents: 'box', status: 'registered', version: 1, createdAt: '2026-12-01T22:30:00.123Z', updatedAt: '2026-12-01T22:30:00.123Z' });
  });
});
