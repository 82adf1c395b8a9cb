import { type ContextHttpEndpoint, type ContextTargets, redactUrl } from '../lib/config.js';
import type { TlsOptions } from '../lib/targets.js';
import { resolvePath } from './paths.js';
import type { StoredContext } from './schema.js';
import { contextSecret, maskSecret } from './secret.js';

export interface TargetScope {
  env: NodeJS.ProcessEnv;
  /** The config file's directory: relative paths in it are relative to it. */
  baseDir: string;
}

/**
 * A stored context as the endpoint resolution takes it (lib/config.ts): paths made absolute,
 * secrets wrapped to be read only when their endpoint is used.
 */
export function contextTargets(name: string, stored: StoredContext, scope: TargetScope): ContextTargets {
  const secret = (text: string, field: string) => contextSecret(text, { context: name, field, env: scope.env, baseDir: scope.baseDir });
  const abs = (file: string | undefined) => (file === undefined ? undefined : resolvePath(file, scope.baseDir, scope.env));
  const tls = (section: { 'ca-file'?: string; 'cert-file'?: string; 'key-file'?: string; 'verify-hostname'?: boolean }): TlsOptions =>
    dropUndefined({
      caFile: abs(section['ca-file']),
      certFile: abs(section['cert-file']),
      keyFile: abs(section['key-file']),
      verifyHostname: section['verify-hostname'],
    });
  const http = (
    section: string,
    e: NonNullable<StoredContext['connect'] & StoredContext['elasticsearch'] & StoredContext['tracking']>,
  ): ContextHttpEndpoint => {
    const endpoint: ContextHttpEndpoint = { url: e.url };
    if (e.tls) endpoint.tls = tls(e.tls);
    if (e.username !== undefined && e.password !== undefined) endpoint.basic = { username: e.username, password: secret(e.password, `${section}.password`) };
    if (e['api-key'] !== undefined) endpoint.apiKey = secret(e['api-key'], `${section}.api-key`);
    if (e.token !== undefined) endpoint.token = secret(e.token, `${section}.token`);
    return endpoint;
  };
  const targets: ContextTargets = { name };
  const { kafka } = stored;
  if (kafka) {
    targets.kafka = { brokers: kafka['bootstrap-servers'] };
    if (kafka.tls) targets.kafka.tls = kafka.tls === true ? {} : tls(kafka.tls);
    if (kafka.sasl)
      targets.kafka.sasl = { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: secret(kafka.sasl.password, 'kafka.sasl.password') };
  }
  for (const section of ['connect', 'elasticsearch', 'tracking', 'auditing'] as const) {
    const e = stored[section];
    if (e) targets[section] = http(section, e);
  }
  if (stored.database) {
    targets.database = { url: stored.database.url };
    if (stored.database.password !== undefined) targets.database.password = secret(stored.database.password, 'database.password');
  }
  return targets;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Fields that hold secrets, by their key in a section. */
const SECRET_KEYS = new Set(['password', 'api-key', 'token']);

/**
 * A stored context safe to print: each secret as its reference (`env:VAR`, `file:PATH`) or
 * `****`, a password inside a URL as `****`.
 */
export function maskedContext(stored: StoredContext): Record<string, unknown> {
  const mask = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') return SECRET_KEYS.has(key) ? maskSecret(value) : key === 'url' ? redactUrl(value) : value;
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]));
    return value;
  };
  return mask(stored, '') as Record<string, unknown>;
}

/** The endpoints a context names, in the order the docs list them. */
export function namedEndpoints(stored: StoredContext): ('kafka' | 'connect' | 'elasticsearch' | 'database' | 'tracking' | 'auditing')[] {
  return (['kafka', 'connect', 'elasticsearch', 'database', 'tracking', 'auditing'] as const).filter((k) => stored[k] !== undefined);
}
