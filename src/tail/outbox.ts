import type { KafkaRecord } from '../clients/kafka-reader.js';

/** The outbox event carried by a record of Debezium's Outbox Event Router. */
export interface OutboxEvent {
  eventId: string;
  eventType: string | null;
  aggregateType: string | null;
  aggregateId: string | null;
  occurredAt: string;
  payload: unknown;
}

const header = (r: KafkaRecord, name: string): string | undefined => {
  const v = r.headers[name];
  if (v === undefined || v === null) return undefined;
  return (Array.isArray(v) ? v[0] : v)?.toString() ?? undefined;
};

function parseObject(value: Buffer | null): Record<string, unknown> | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isoTime(value: unknown, fallbackMs: string): string {
  // The router writes occurred_at as epoch milliseconds; an ISO string passes through.
  const ms = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
  if (ms !== undefined) return new Date(ms).toISOString();
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return new Date(Number(fallbackMs)).toISOString();
}

/**
 * The event fields of an outbox record: from the envelope the connector file places
 * (eventId, eventType, aggregateType, aggregateId, occurredAt, payload), else from the `id`
 * header, the key and the record time with the value as payload. Undefined when the record
 * carries no event id at all (it was not made by the outbox router).
 */
export function unwrapOutbox(record: KafkaRecord): OutboxEvent | undefined {
  const value = parseObject(record.value);
  const envelope = value !== undefined && 'payload' in value && ('eventId' in value || 'eventType' in value);
  const eventId = (envelope ? value.eventId : undefined) ?? header(record, 'id');
  if (typeof eventId !== 'string' || eventId === '') return undefined;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : v === undefined || v === null ? null : String(v));
  let payload: unknown = envelope ? value.payload : (value ?? record.value?.toString('utf8') ?? null);
  // A payload the router did not expand arrives as a JSON string.
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload) as unknown;
    } catch {
      // keep the text
    }
  }
  return {
    eventId,
    eventType: str(envelope ? value.eventType : undefined) ?? header(record, 'eventType') ?? header(record, 'type') ?? null,
    aggregateType: str(envelope ? value.aggregateType : undefined) ?? header(record, 'aggregateType') ?? null,
    aggregateId: str(envelope ? value.aggregateId : undefined) ?? record.key?.toString('utf8') ?? null,
    occurredAt: isoTime(envelope ? value.occurredAt : undefined, record.timestamp),
    payload,
  };
}
