import type { KafkaRecord } from '../clients/kafka-reader.js';
import type { SinkConfig } from './config.js';

/** Where a record failed, in Connect's DLQ vocabulary (`__connect.errors.stage`). */
export type ErrorStage = 'VALUE_CONVERTER' | 'TRANSFORMATION' | 'TASK_PUT';

export interface Projection {
  index: string;
  id: string;
  version: number;
  doc: Record<string, unknown>;
}

export type Planned =
  | { kind: 'index'; record: KafkaRecord; index: string; id: string; doc: Record<string, unknown>; projection?: Projection }
  | { kind: 'delete'; record: KafkaRecord; index: string; id: string }
  | { kind: 'skip'; record: KafkaRecord; reason: string }
  | { kind: 'error'; record: KafkaRecord; stage: ErrorStage; className: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Connect's transforms, applied to (key, value) in the configured order. */
function applyTransforms(config: SinkConfig, key: unknown, value: unknown): unknown {
  let k = key;
  for (const t of config.transforms) {
    if (t.kind === 'value-to-key') {
      if (!isObject(value)) throw new Error(`${t.alias}: ValueToKey needs a JSON object value`);
      k = Object.fromEntries(t.fields.map((f) => [f, value[f] ?? null]));
    } else {
      if (!isObject(k)) throw new Error(`${t.alias}: ExtractField$Key needs a struct key`);
      k = k[t.field] ?? null;
    }
  }
  return k;
}

/**
 * The parcel's current state from an outbox event (`payload.parcel` with id and version), for
 * the `parcels` index; undefined for events that carry none.
 */
export function parcelProjection(value: Record<string, unknown>, index: string): Projection | undefined {
  const payload = value.payload;
  if (!isObject(payload) || !isObject(payload.parcel)) return undefined;
  const parcel = payload.parcel;
  if (typeof parcel.id !== 'string' || !Number.isInteger(parcel.version)) return undefined;
  return {
    index,
    id: parcel.id,
    version: parcel.version as number,
    doc: { ...parcel, lastEventId: value.eventId ?? null, lastEventType: value.eventType ?? null },
  };
}

/** Pure: what the sink does with one record, as Confluent's connector would decide it. */
export function planRecord(config: SinkConfig, record: KafkaRecord, projectionIndex?: string): Planned {
  const index = record.topic.toLowerCase();
  if (record.value === null) {
    if (config.behaviorOnNullValues === 'ignore') return { kind: 'skip', record, reason: 'null value (behavior.on.null.values=ignore)' };
    if (config.behaviorOnNullValues === 'fail')
      return {
        kind: 'error',
        record,
        stage: 'TASK_PUT',
        className: 'org.apache.kafka.connect.errors.DataException',
        message: 'Sink record with key and null value (behavior.on.null.values=fail)',
      };
  }
  let value: unknown = null;
  if (record.value !== null) {
    try {
      value = JSON.parse(record.value.toString('utf8'));
    } catch (error) {
      return {
        kind: 'error',
        record,
        stage: 'VALUE_CONVERTER',
        className: 'org.apache.kafka.connect.errors.DataException',
        message: `Converting byte[] to Kafka Connect data failed due to serialization error: ${(error as Error).message}`,
      };
    }
  }
  let id: string;
  if (config.keyIgnore) id = `${record.topic}+${record.partition}+${record.offset}`;
  else {
    let key: unknown;
    try {
      key = applyTransforms(config, record.key?.toString('utf8') ?? null, value);
    } catch (error) {
      return { kind: 'error', record, stage: 'TRANSFORMATION', className: 'org.apache.kafka.connect.errors.DataException', message: (error as Error).message };
    }
    if (key === null || key === undefined || isObject(key)) {
      return {
        kind: 'error',
        record,
        stage: 'TASK_PUT',
        className: 'org.apache.kafka.connect.errors.DataException',
        message: 'Key is used as document id and can not be null or a struct (key.ignore=false)',
      };
    }
    id = String(key);
  }
  if (value === null) return { kind: 'delete', record, index, id };
  if (!isObject(value))
    return {
      kind: 'error',
      record,
      stage: 'TASK_PUT',
      className: 'org.apache.kafka.connect.errors.DataException',
      message: 'Elasticsearch documents must be JSON objects',
    };
  return { kind: 'index', record, index, id, doc: value, projection: projectionIndex ? parcelProjection(value, projectionIndex) : undefined };
}
