import { UserError } from '../lib/errors.js';

/** The connector class the embedded sink stands in for. */
export const ES_SINK_CLASS = 'io.confluent.connect.elasticsearch.ElasticsearchSinkConnector';

export type Transform = { kind: 'value-to-key'; alias: string; fields: string[] } | { kind: 'extract-key'; alias: string; field: string };

/** The part of Confluent's Elasticsearch sink configuration the embedded sink honours. */
export interface SinkConfig {
  name: string;
  topics: string[];
  connectionUrl: string;
  username?: string;
  password?: string;
  keyIgnore: boolean;
  transforms: Transform[];
  batchSize: number;
  lingerMs: number;
  retryBackoffMs: number;
  writeMethod: 'insert' | 'upsert';
  behaviorOnNullValues: 'ignore' | 'delete' | 'fail';
  behaviorOnMalformedDocuments: 'ignore' | 'warn' | 'fail';
  errorsTolerance: 'none' | 'all';
  dlqTopic?: string;
  dlqContextHeaders: boolean;
  /** Connect names a sink connector's consumer group `connect-<name>`. */
  groupId: string;
}

const VALUE_TO_KEY = 'org.apache.kafka.connect.transforms.ValueToKey';
const EXTRACT_KEY = 'org.apache.kafka.connect.transforms.ExtractField$Key';

function invalid(name: string, key: string, message: string): UserError {
  return new UserError('SINK_CONFIG', `Connector "${name}": ${key} ${message}.`, {
    hint: "The embedded sink honours the options of Confluent's Elasticsearch sink listed in the README (Sink).",
  });
}

function oneOf<T extends string>(name: string, config: Record<string, string>, key: string, allowed: readonly T[], fallback: T): T {
  const value = (config[key] ?? fallback).trim().toLowerCase() as T;
  if (!allowed.includes(value)) throw invalid(name, key, `is "${config[key]}", not one of ${allowed.join(', ')}`);
  return value;
}

function int(name: string, config: Record<string, string>, key: string, fallback: number, min: number): number {
  const raw = config[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw invalid(name, key, `is "${raw}", not a whole number ≥ ${min}`);
  return n;
}

const bool = (config: Record<string, string>, key: string, fallback: boolean): boolean =>
  config[key] === undefined ? fallback : config[key]!.trim().toLowerCase() === 'true';
const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Pure: a connector file's config → what the embedded sink does. Anything it cannot honour
 * the way Connect would (another transform, schemas, topics.regex) is an error, never ignored.
 */
export function parseSinkConfig(name: string, config: Record<string, string>): SinkConfig {
  if (config['connector.class'] !== ES_SINK_CLASS) throw invalid(name, 'connector.class', `is "${config['connector.class']}", not ${ES_SINK_CLASS}`);
  if (config['topics.regex']) throw invalid(name, 'topics.regex', 'is not supported by the embedded sink; list the topics in "topics"');
  const topics = list(config.topics);
  if (topics.length === 0) throw invalid(name, 'topics', 'is missing');
  const connectionUrl = list(config['connection.url'])[0];
  if (!connectionUrl) throw invalid(name, 'connection.url', 'is missing');
  for (const side of ['key', 'value'] as const) {
    const converter = config[`${side}.converter`];
    if (converter === 'org.apache.kafka.connect.json.JsonConverter' && config[`${side}.converter.schemas.enable`] !== 'false') {
      throw invalid(name, `${side}.converter.schemas.enable`, 'must be false: the embedded sink reads schemaless JSON');
    }
  }
  const transforms = list(config.transforms).map((alias): Transform => {
    const type = config[`transforms.${alias}.type`];
    if (type === VALUE_TO_KEY) {
      const fields = list(config[`transforms.${alias}.fields`]);
      if (fields.length === 0) throw invalid(name, `transforms.${alias}.fields`, 'is missing');
      return { kind: 'value-to-key', alias, fields };
    }
    if (type === EXTRACT_KEY) {
      const field = config[`transforms.${alias}.field`];
      if (!field) throw invalid(name, `transforms.${alias}.field`, 'is missing');
      return { kind: 'extract-key', alias, field };
    }
    throw invalid(name, `transforms.${alias}.type`, `is "${type ?? ''}"; the embedded sink applies only ValueToKey and ExtractField$Key`);
  });
  const errorsTolerance = oneOf(name, config, 'errors.tolerance', ['none', 'all'] as const, 'none');
  const dlqTopic = config['errors.deadletterqueue.topic.name']?.trim() || undefined;
  return {
    name,
    topics,
    connectionUrl,
    username: config['connection.username'],
    password: config['connection.password'],
    keyIgnore: bool(config, 'key.ignore', false),
    transforms,
    batchSize: int(name, config, 'batch.size', 2000, 1),
    lingerMs: int(name, config, 'linger.ms', 1, 0),
    retryBackoffMs: int(name, config, 'retry.backoff.ms', 100, 0),
    writeMethod: oneOf(name, config, 'write.method', ['insert', 'upsert'] as const, 'insert'),
    behaviorOnNullValues: oneOf(name, config, 'behavior.on.null.values', ['ignore', 'delete', 'fail'] as const, 'fail'),
    behaviorOnMalformedDocuments: oneOf(name, config, 'behavior.on.malformed.documents', ['ignore', 'warn', 'fail'] as const, 'fail'),
    errorsTolerance,
    dlqTopic: errorsTolerance === 'all' ? dlqTopic : undefined,
    dlqContextHeaders: bool(config, 'errors.deadletterqueue.context.headers.enable', false),
    groupId: `connect-${name}`,
  };
}
