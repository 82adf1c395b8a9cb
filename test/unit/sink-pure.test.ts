import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../src/clients/kafka-reader.js';
import { parseConnectorFile } from '../../src/connectors/spec.js';
import { EnvironmentError, UserError } from '../../src/lib/errors.js';
import { parseSinkConfig } from '../../src/sink/config.js';
import { planRecord } from '../../src/sink/documents.js';
import { isRetryable } from '../../src/sink/sink.js';
import { ROOT } from '../helpers/cli.js';

async function shippedConfig(): Promise<Record<string, string>> {
  const text = await readFile(`${ROOT}/kafka-connectors/es-sink-connector.json`, 'utf8');
  return parseConnectorFile(text, 'es-sink-connector.json', { ELASTICSEARCH_URL: 'http://127.0.0.1:9200' }).config;
}

const record = (value: unknown, over: Partial<KafkaRecord> = {}): KafkaRecord => ({
  topic: 'parcel.outbox',
  partition: 0,
  offset: '7',
  timestamp: '0',
  key: Buffer.from('p-1'),
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
  ...over,
});

describe('embedded sink: configuration', () => {
  it("reads the shipped es-sink-connector.json as Confluent's connector would", async () => {
    const config = parseSinkConfig('elasticsearch-sink', await shippedConfig());
    expect(config).toMatchObject({
      topics: ['parcel.outbox'],
      connectionUrl: 'http://127.0.0.1:9200',
      keyIgnore: false,
      writeMethod: 'insert',
      behaviorOnNullValues: 'ignore',
      behaviorOnMalformedDocuments: 'warn',
      errorsTolerance: 'all',
      dlqTopic: 'parcel.outbox.dlq',
      dlqContextHeaders: true,
      groupId: 'connect-elasticsearch-sink',
      batchSize: 2000,
    });
    expect(config.transforms.map((t) => t.kind)).toEqual(['value-to-key', 'extract-key']);
  });

  it('refuses what it cannot honour: another transform, schemas, a bad enum value', async () => {
    const base = await shippedConfig();
    expect(() => parseSinkConfig('s', { ...base, transforms: 'route', 'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter' })).toThrow(
      'Connector "s": transforms.route.type is "org.apache.kafka.connect.transforms.RegexRouter"; the embedded sink applies only ValueToKey and ExtractField$Key.',
    );
    expect(() => parseSinkConfig('s', { ...base, 'value.converter.schemas.enable': 'true' })).toThrow('must be false: the embedded sink reads schemaless JSON');
    expect(() => parseSinkConfig('s', { ...base, 'write.method': 'append' })).toThrow('write.method is "append", not one of insert, upsert');
    expect(() => parseSinkConfig('s', { ...base, 'batch.size': '0' })).toThrow('batch.size is "0", not a whole number ≥ 1');
  });
});

describe('embedded sink: what happens to a record', () => {
  const event = {
    eventId: 'e-1',
    eventType: 'ParcelUpdated',
    aggregateType: 'parcel',
    aggregateId: 'p-1',
    occurredAt: 1,
    payload: { parcel: { id: 'p-1', version: 2, status: 'in_transit' } },
  };

  it('the document id is the event id (ValueToKey + ExtractField$Key); the parcel projection carries its version', async () => {
    const config = parseSinkConfig('elasticsearch-sink', await shippedConfig());
    const plan = planRecord(config, record(event), 'parcels');
    expect(plan).toMatchObject({
      kind: 'index',
      index: 'parcel.outbox',
      id: 'e-1',
      doc: event,
      projection: { index: 'parcels', id: 'p-1', version: 2, doc: { id: 'p-1', status: 'in_transit', lastEventId: 'e-1' } },
    });
  });

  it('null values follow behavior.on.null.values; bad JSON and missing ids are errors for the DLQ, never silently dropped', async () => {
    const config = parseSinkConfig('elasticsearch-sink', await shippedConfig());
    expect(planRecord(config, record(null)).kind).toBe('skip');
    expect(planRecord({ ...config, behaviorOnNullValues: 'fail' }, record(null))).toMatchObject({ kind: 'error', stage: 'TASK_PUT' });
    expect(planRecord(config, record('{not json'))).toMatchObject({ kind: 'error', stage: 'VALUE_CONVERTER' });
    expect(planRecord(config, record({ ...event, eventId: undefined }))).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('Key is used as document id'),
    });
    expect(planRecord({ ...config, keyIgnore: true, transforms: [] }, record(event))).toMatchObject({ kind: 'index', id: 'parcel.outbox+0+7' });
  });
});

describe('embedded sink: what is retried', () => {
  it('an engine that is down, slow or answering 5xx is retried; a 4xx refusal is not', () => {
    expect(isRetryable(new EnvironmentError('SEARCH_UNREACHABLE', 'did not answer within 15s'))).toBe(true);
    expect(isRetryable(new EnvironmentError('SEARCH_FAILED', 'socket hang up'))).toBe(true);
    expect(isRetryable(new UserError('SEARCH_REJECTED', 'HTTP 500', { cause: { meta: { statusCode: 500 } } }))).toBe(true);
    expect(isRetryable(new UserError('SEARCH_REJECTED', 'HTTP 400', { cause: { meta: { statusCode: 400 } } }))).toBe(false);
  });
});
