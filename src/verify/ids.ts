import { createHash } from 'node:crypto';
import { isUuid } from '../lib/uuid.js';

/** Words (uint32) per id: a UUID is 16 bytes. */
export const WORDS = 4;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * Ids as four uint32 words, compared as 128-bit numbers: a UUID is its 16 bytes (so the order is
 * PostgreSQL's uuid order and the lowercase text order of Elasticsearch's keyword sort), anything
 * else the first 16 bytes of its SHA-256, with the text kept aside to name it in a report.
 */
export class IdCodec {
  private readonly foreign = new Map<string, string>();

  /** Writes the words of `id` at `out[at..at+4)`. */
  encode(id: string, out: Uint32Array, at: number): void {
    if (id.length === 36 && isUuid(id)) {
      out[at] = Number.parseInt(id.slice(0, 8), 16);
      out[at + 1] = Number.parseInt(id.slice(9, 13) + id.slice(14, 18), 16);
      out[at + 2] = Number.parseInt(id.slice(19, 23) + id.slice(24, 28), 16);
      out[at + 3] = Number.parseInt(id.slice(28, 36), 16);
      return;
    }
    const digest = createHash('sha256').update(id).digest();
    for (let k = 0; k < WORDS; k++) out[at + k] = digest.readUInt32BE(k * 4);
    this.foreign.set(wordsHex(out, at), id);
  }

  /** The id whose words are at `words[at..at+4)`, as it was written. */
  decode(words: Uint32Array, at: number): string {
    const h = wordsHex(words, at);
    return this.foreign.get(h) ?? `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

function wordsHex(words: Uint32Array, at: number): string {
  return hex8(words[at]!) + hex8(words[at + 1]!) + hex8(words[at + 2]!) + hex8(words[at + 3]!);
}

/** Compares the id at row `i` of `a` with the id at row `j` of `b` (rows, not word offsets). */
export function compareIds(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const x = i * WORDS;
  const y = j * WORDS;
  for (let k = 0; k < WORDS; k++) {
    const d = a[x + k]! - b[y + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * A compact column store of ids: 16 bytes per id, an event time (ms, NaN when unknown) and any
 * number of int32 columns (version, key). Rows stay in the order they were appended (the order
 * they were read); `sort()` builds a permutation in id order, so 1,000,000 ids take ~30 MB.
 */
export class IdTable {
  length = 0;
  words: Uint32Array;
  time: Float64Array;
  readonly ints: Int32Array[];
  /** Rows in id order (ties in append order); null while unsorted, `identity` when appended in order. */
  private order: Uint32Array | 'identity' | null = 'identity';

  constructor(
    readonly codec: IdCodec,
    readonly intColumns = 0,
    capacity = 1024,
  ) {
    const cap = Math.max(16, capacity);
    this.words = new Uint32Array(cap * WORDS);
    this.time = new Float64Array(cap);
    this.ints = Array.from({ length: intColumns }, () => new Int32Array(cap));
  }

  get capacity(): number {
    return this.time.length;
  }

  /** Appends a row; returns its index. */
  push(id: string, time: number, ...ints: number[]): number {
    if (this.length === this.capacity) this.grow(Math.ceil(this.capacity * 1.5));
    const row = this.length++;
    this.codec.encode(id, this.words, row * WORDS);
    this.time[row] = time;
    for (let c = 0; c < this.intColumns; c++) this.ints[c]![row] = ints[c] ?? -1;
    this.appended(row);
    return row;
  }

  /** Appends row `row` of another table that shares this table's codec. */
  pushRow(from: IdTable, row: number, ...ints: number[]): number {
    if (this.length === this.capacity) this.grow(Math.ceil(this.capacity * 1.5));
    const at = this.length++;
    this.words.set(from.words.subarray(row * WORDS, row * WORDS + WORDS), at * WORDS);
    this.time[at] = from.time[row]!;
    for (let c = 0; c < this.intColumns; c++) this.ints[c]![at] = ints[c] ?? from.ints[c]?.[row] ?? -1;
    this.appended(at);
    return at;
  }

  /** Rows appended in id order keep the identity order; anything else needs a sort. */
  private appended(row: number): void {
    if (this.order !== 'identity' || (row > 0 && compareIds(this.words, row - 1, this.words, row) > 0)) this.order = null;
  }

  private grow(capacity: number): void {
    const words = new Uint32Array(capacity * WORDS);
    words.set(this.words.subarray(0, this.length * WORDS));
    this.words = words;
    const time = new Float64Array(capacity);
    time.set(this.time.subarray(0, this.length));
    this.time = time;
    for (let c = 0; c < this.intColumns; c++) {
      const col = new Int32Array(capacity);
      col.set(this.ints[c]!.subarray(0, this.length));
      this.ints[c] = col;
    }
  }

  /**
   * Builds the id order (a no-op when rows were appended in it): an LSD radix sort over the eight
   * 16-bit digits of the ids, so it allocates two typed arrays and nothing on the JS heap. It is
   * stable, so repeats of an id stay in the order they were read.
   */
  sort(): void {
    if (this.order !== null) return;
    const n = this.length;
    const w = this.words;
    let from = new Uint32Array(n);
    for (let i = 0; i < n; i++) from[i] = i;
    let to = new Uint32Array(n);
    const counts = new Uint32Array(65_537);
    for (let pass = 0; pass < 2 * WORDS; pass++) {
      const word = WORDS - 1 - (pass >> 1);
      const shift = (pass & 1) * 16;
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[((w[from[i]! * WORDS + word]! >>> shift) & 0xffff) + 1]!++;
      // A digit every id shares orders nothing: skip the pass.
      if (counts.some((c) => c === n)) continue;
      for (let d = 1; d < counts.length; d++) counts[d]! += counts[d - 1]!;
      for (let i = 0; i < n; i++) {
        const row = from[i]!;
        to[counts[(w[row * WORDS + word]! >>> shift) & 0xffff]!++] = row;
      }
      [from, to] = [to, from];
    }
    this.order = from;
  }

  /** Empties the table (its capacity stays), e.g. to reuse it as a one-row probe. */
  clear(): void {
    this.length = 0;
    this.order = 'identity';
  }

  /** The row at position `k` of the id order (after `sort()`). */
  rowAt(k: number): number {
    if (this.order === null) throw new Error('IdTable.rowAt before sort()');
    return this.order === 'identity' ? k : this.order[k]!;
  }

  id(row: number): string {
    return this.codec.decode(this.words, row * WORDS);
  }

  /** Position in id order of the first row whose id is ≥ row `j` of `other` (binary search). */
  lowerBound(other: IdTable, j: number): number {
    this.sort();
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.words, this.rowAt(mid), other.words, j) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first row (in id order) holding row `j` of `other`'s id, or -1. */
  find(other: IdTable, j: number): number {
    const k = this.lowerBound(other, j);
    if (k < this.length && compareIds(this.words, this.rowAt(k), other.words, j) === 0) return this.rowAt(k);
    return -1;
  }

  /** A table with the same columns and codec, empty. */
  emptyLike(capacity = 16): IdTable {
    return new IdTable(this.codec, this.intColumns, capacity);
  }

  /** One id's row in a throwaway table (for `find` with a string). */
  static probe(codec: IdCodec, id: string): IdTable {
    const t = new IdTable(codec, 0, 1);
    t.push(id, Number.NaN);
    return t;
  }
}

/**
 * Dense numbers for keys (record key and partition): an open-addressing hash over the keys'
 * words, so per-key state needs an int per key instead of a Map of strings.
 */
export class KeyIndex {
  size = 0;
  private keys: Uint32Array;
  private slots: Int32Array;

  constructor(
    private readonly codec: IdCodec,
    capacity = 1024,
  ) {
    this.keys = new Uint32Array(Math.max(16, capacity) * (WORDS + 1));
    this.slots = new Int32Array(nextPow2(Math.max(32, capacity * 2))).fill(-1);
  }

  private readonly scratch = new Uint32Array(WORDS + 1);

  /** The number of `key` on `partition`, allocated on first sight. */
  intern(key: string, partition: number): number {
    const s = this.scratch;
    this.codec.encode(key, s, 0);
    s[WORDS] = partition >>> 0;
    const mask = this.slots.length - 1;
    let h = mix(s[0]! ^ mix(s[1]! ^ mix(s[2]! ^ mix(s[3]! ^ mix(s[4]!))))) & mask;
    for (;;) {
      const at = this.slots[h]!;
      if (at < 0) break;
      if (this.same(at, s)) return at;
      h = (h + 1) & mask;
    }
    const n = this.size++;
    if ((n + 1) * (WORDS + 1) > this.keys.length) {
      const keys = new Uint32Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.keys.set(s, n * (WORDS + 1));
    this.slots[h] = n;
    if (this.size * 2 > this.slots.length) this.rehash();
    return n;
  }

  /** The key text of number `n`. */
  key(n: number): string {
    return this.codec.decode(this.keys, n * (WORDS + 1));
  }

  private same(n: number, s: Uint32Array): boolean {
    const at = n * (WORDS + 1);
    for (let k = 0; k <= WORDS; k++) if (this.keys[at + k] !== s[k]) return false;
    return true;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let n = 0; n < this.size; n++) {
      const at = n * (WORDS + 1);
      const k = this.keys;
      let h = mix(k[at]! ^ mix(k[at + 1]! ^ mix(k[at + 2]! ^ mix(k[at + 3]! ^ mix(k[at + 4]!))))) & mask;
      while (slots[h]! >= 0) h = (h + 1) & mask;
      slots[h] = n;
    }
    this.slots = slots;
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** murmur3's finalizer: spreads sequential keys over the table. */
function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
