import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flywayChecksum } from '../../src/migrations/checksum.js';
import { parseScriptName } from '../../src/migrations/scripts.js';
import { compareVersions, parseVersion, versionKey } from '../../src/migrations/version.js';
import { decodeCursor as decodeAuditCursor, encodeCursor as encodeAuditCursor } from '../../src/servers/auditing/queries.js';
import { parseIsoTime } from '../../src/servers/iso-time.js';

/** Property-based checks of the pure parts: bounded runs, so they stay fast. */
const RUNS = { numRuns: 200 };

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320) written out, as an oracle independent of zlib. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function referenceCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) | 0;
}

const digits = fc.stringMatching(/^\d{1,4}$/);
const word = fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/);
/** A line of SQL: any text without a line terminator. */
const line = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
const terminator = fc.constantFrom('\n', '\r\n', '\r');

describe('migration file names (V<version>__<description>.sql)', () => {
  it('a well-formed name parses back to its version and description, whichever separators it uses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(digits, fc.constantFrom('.', '_')), { minLength: 1, maxLength: 4 }),
        fc.array(word, { minLength: 1, maxLength: 4 }),
        (parts, words) => {
          const versionText = parts.map(([d, sep], i) => (i === 0 ? d : `${sep}${d}`)).join('');
          const parsed = parseScriptName(`V${versionText}__${words.join('_')}.sql`);
          expect(parsed).toMatchObject({ kind: 'versioned', description: words.join(' ') });
          if (parsed.kind !== 'versioned') return;
          expect(parsed.version.text).toBe(parts.map(([d]) => d).join('.'));
          // The version as stored reads back as the same version.
          expect(parseVersion(parsed.version.text)).toEqual(parsed.version);
        },
      ),
      RUNS,
    );
  });

  it('a version that is not digits separated by "." or "_" is rejected, the reason quoting it', () => {
    const notAVersion = fc.string({ maxLength: 12 }).filter((s) => !/^\d+([._]\d+)*$/.test(s) && !s.includes('__') && !s.endsWith('_') && !/[\r\n]/.test(s));
    fc.assert(
      fc.property(notAVersion, word, (bad, description) => {
        expect(parseScriptName(`V${bad}__${description}.sql`)).toEqual({
          kind: 'invalid',
          reason: `"${bad}" is not a version (digits separated by "." or "_")`,
        });
      }),
      RUNS,
    );
  });

  it('a name without "__" is rejected, saying the description must follow two underscores', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 16 }).filter((s) => !s.includes('__')),
        (rest) => {
          expect(parseScriptName(`V${rest}.sql`)).toEqual({ kind: 'invalid', reason: 'the description must follow "__" (two underscores)' });
        },
      ),
      RUNS,
    );
  });

  it('versions compare as Flyway does: trailing zero parts and leading zeros do not count, and the order is consistent', () => {
    const version = fc.array(digits, { minLength: 1, maxLength: 4 }).map((p) => parseVersion(p.join('.'))!);
    fc.assert(
      fc.property(version, version, fc.nat({ max: 3 }), (a, b, zeros) => {
        expect(compareVersions(a, parseVersion(`${a.text}${'.0'.repeat(zeros)}`)!)).toBe(0);
        expect(compareVersions(a, parseVersion(a.text.replace(/(^|\.)(\d)/g, '$10$2'))!)).toBe(0);
        // A sum, not -sign: toBe is Object.is, and -0 is not 0 when a and b are equal.
        expect(Math.sign(compareVersions(a, b)) + Math.sign(compareVersions(b, a))).toBe(0);
        expect(compareVersions(a, b) === 0).toBe(versionKey(a) === versionKey(b));
      }),
      RUNS,
    );
  });
});

describe('Flyway checksum (CRC32 of the lines, terminators dropped)', () => {
  it('is the same for LF, CRLF and CR line endings, with or without a last newline', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.array(terminator, { minLength: 8, maxLength: 8 }), fc.boolean(), (lines, ends, last) => {
        const lf = flywayChecksum(lines.join('\n'));
        const mixed = lines.map((l, i) => `${l}${i < lines.length - 1 || last ? ends[i] : ''}`).join('');
        expect(flywayChecksum(mixed)).toBe(lf);
        expect(flywayChecksum(lines.join('\r\n'))).toBe(lf);
      }),
      RUNS,
    );
  });

  it('equals an independent CRC-32 of the lines as UTF-8, signed; a leading BOM and Buffer input change nothing', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = lines.join('\n');
        fc.pre(!text.startsWith('\uFEFF'));
        const sum = flywayChecksum(text);
        expect(sum).toBe(referenceCrc32(Buffer.from(lines.join(''), 'utf8')));
        expect(sum).toBeGreaterThanOrEqual(-(2 ** 31));
        expect(sum).toBeLessThan(2 ** 31);
        expect(flywayChecksum(`\uFEFF${text}`)).toBe(sum);
        expect(flywayChecksum(Buffer.from(text, 'utf8'))).toBe(sum);
      }),
      RUNS,
    );
  });
});

describe('ISO times of a real day (both servers’ dates)', () => {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const daysIn = (y: number, m: number) => [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;

  it('a real date-time reads as its UTC instant; one day past the month’s end, or hour 24, does not read at all', () => {
    fc.assert(
      fc.property(
        fc.record({
          y: fc.integer({ min: 1, max: 9999 }),
          m: fc.integer({ min: 1, max: 12 }),
          d: fc.integer({ min: 1, max: 31 }),
          h: fc.integer({ min: 0, max: 23 }),
          mi: fc.integer({ min: 0, max: 59 }),
          s: fc.integer({ min: 0, max: 59 }),
        }),
        ({ y, m, d, h, mi, s }) => {
          const text = (day: number, hour = h) => `${pad(y, 4)}-${pad(m)}-${pad(day)}T${pad(hour)}:${pad(mi)}:${pad(s)}Z`;
          const real = Math.min(d, daysIn(y, m));
          const utc = new Date(0);
          utc.setUTCFullYear(y, m - 1, real);
          utc.setUTCHours(h, mi, s, 0);
          expect(parseIsoTime(text(real))).toBe(utc.getTime());
          expect(parseIsoTime(text(daysIn(y, m) + 1))).toBeUndefined();
          expect(parseIsoTime(text(real, 24))).toBeUndefined();
        },
      ),
      RUNS,
    );
  });

  it('never throws, and never rolls a date over: what it accepts in UTC names the same day', () => {
    const isoLike = fc.stringMatching(/^\d{4}-[01]\d-[0-3]\d(T[0-2]\d:[0-5]\d(:[0-6]\d(\.\d{1,6})?)?(Z|[+-][01]\d:[0-5]\d)?)?$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), isoLike), (text) => {
        const ms = parseIsoTime(text);
        if (ms === undefined || !/^.{10}(T.*Z)?$/.test(text)) return;
        expect(new Date(ms).toISOString().slice(0, 10)).toBe(text.slice(0, 10));
      }),
      RUNS,
    );
  });
});

describe('auditing cursors (pure)', () => {
  it('every cursor the server issues reads back as the same sort values', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.string({ minLength: 1, maxLength: 255 }), (at, id) => {
        fc.pre(Math.abs(at) <= 8.64e15);
        expect(decodeAuditCursor(encodeAuditCursor([at, id])!)).toEqual({ ok: true, sortValues: [at, id] });
      }),
      RUNS,
    );
  });

  it('anything else is refused without throwing, and what is accepted is always [integer, string]', () => {
    const anything = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
      fc.tuple(fc.jsonValue(), fc.jsonValue()).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
    );
    fc.assert(
      fc.property(anything, (text) => {
        const decoded = decodeAuditCursor(text);
        if (decoded.ok) {
          expect(Number.isSafeInteger(decoded.sortValues[0])).toBe(true);
          expect(typeof decoded.sortValues[1]).toBe('string');
        }
      }),
      RUNS,
    );
  });
});
