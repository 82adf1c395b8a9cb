import type { KafkaRecord } from '../clients/kafka-reader.js';
import { UsageError } from '../lib/errors.js';

type Part = string | ((r: KafkaRecord, v: string | null) => string);
export type TailFormat = { kind: 'raw' } | { kind: 'json' } | { kind: 'template'; parts: Part[] };

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

// A header's value may be null on the wire (kafkajs decodes it as null).
const one = (v: Buffer | string | null | undefined): string => (v === null || v === undefined ? '' : v.toString());

function headerText(value: KafkaRecord['headers'][string]): string {
  return Array.isArray(value) ? value.map(one).join(',') : one(value);
}

/** Headers as `{name: text}` (a repeated header becomes an array). */
export function headersObject(record: KafkaRecord): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(record.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}

// kcat's tokens, plus %v for the value as the examples write it.
const TOKENS: Record<string, (r: KafkaRecord, v: string | null) => string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => r.offset,
  k: (r) => text(r.key) ?? '',
  K: (r) => String(r.key?.length ?? -1),
  s: (_, v) => v ?? '',
  v: (_, v) => v ?? '',
  S: (_, v) => String(v === null ? -1 : Buffer.byteLength(v)),
  T: (r) => r.timestamp,
  h: (r) =>
    Object.entries(r.headers)
      .map(([k, v]) => `${k}=${headerText(v)}`)
      .join(','),
};
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** `raw`, `json`, or a kcat-style template such as `'%k %v %p %o %T %h'`. */
export function parseFormat(spec: string): TailFormat {
  if (spec === 'raw' || spec === 'json') return { kind: spec };
  if (!spec.includes('%')) {
    throw new UsageError(`--format "${spec}" is neither raw, json nor a template.`, { hint: "A template uses %t %p %o %k %v %T %h, e.g. --format '%k %v'." });
  }
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    const n = spec[i + 1];
    if (c === '\\' && n !== undefined && ESCAPES[n] !== undefined) {
      literal += ESCAPES[n];
      i++;
    } else if (c === '%' && n === '%') {
      literal += '%';
      i++;
    } else if (c === '%') {
      const token = n === undefined ? undefined : TOKENS[n];
      if (!token)
        throw new UsageError(`--format uses %${n ?? ''}, which is not a template token.`, {
          hint: 'Tokens: %t topic, %p partition, %o offset, %k key, %v value, %T timestamp, %h headers, %K/%S lengths.',
        });
      if (literal) parts.push(literal);
      literal = '';
      parts.push(token);
      i++;
    } else literal += c;
  }
  if (!literal.endsWith('\n')) literal += '\n';
  parts.push(literal);
  return { kind: 'template', parts };
}

/** A value that is a JSON document (object, array or string) parsed; anything else stays text. Numbers stay text so large ones keep their digits. */
export function embeddedJson(value: string | null): unknown {
  if (value === null) return null;
  const first = value.trimStart()[0];
  if (first !== '{' && first !== '[' && first !== '"') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export interface RenderOptions {
  format: TailFormat;
  printKey: boolean;
  pretty: boolean;
}

/**
 * One record as printed text (ending in a newline). `value` is the text to print as the value:
 * the record's own, or the unwrapped outbox event.
 */
export function renderRecord(record: KafkaRecord, value: string | null, options: RenderOptions): string {
  const indent = options.pretty ? 2 : undefined;
  switch (options.format.kind) {
    case 'raw': {
      const shown = options.pretty ? prettyValue(value) : value;
      return options.printKey ? `${text(record.key) ?? 'null'}\t${shown ?? 'null'}\n` : `${shown ?? 'null'}\n`;
    }
    case 'json':
      return `${JSON.stringify(
        {
          topic: record.topic,
          partition: record.partition,
          offset: Number(record.offset),
          timestamp: new Date(Number(record.timestamp)).toISOString(),
          key: text(record.key),
          headers: headersObject(record),
          value: embeddedJson(value),
        },
        null,
        indent,
      )}\n`;
    case 'template':
      return options.format.parts.map((p) => (typeof p === 'string' ? p : p(record, value))).join('');
  }
}

function prettyValue(value: string | null): string | null {
  const parsed = embeddedJson(value);
  return typeof parsed === 'string' || parsed === null ? value : JSON.stringify(parsed, null, 2);
}
