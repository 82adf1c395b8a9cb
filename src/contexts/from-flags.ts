import { existsSync, statSync } from 'node:fs';
import { urlCarriesPassword } from '../lib/config.js';
import { UsageError } from '../lib/errors.js';
import { SASL_MECHANISMS, type SaslMechanism } from '../lib/targets.js';
import { CONTEXT_NAME, LOCAL } from './names.js';
import { resolvePath } from './paths.js';
import { contextSchema, firstIssue, type StoredContext } from './schema.js';
import { parseSecretRef } from './secret.js';

/** The config file's field each `context create` flag sets: the schema's problems are told by flag. */
export const FIELD_FLAGS: Record<string, string> = {
  'kafka.bootstrap-servers': '--bootstrap-server',
  'kafka.tls.ca-file': '--kafka-ca',
  'kafka.tls.cert-file': '--kafka-cert',
  'kafka.tls.key-file': '--kafka-key',
  'kafka.sasl.mechanism': '--kafka-sasl-mechanism',
  'kafka.sasl.username': '--kafka-username',
  'kafka.sasl.password': '--kafka-password',
  'connect.url': '--connect-url',
  'connect.username': '--connect-username',
  'connect.password': '--connect-password',
  'connect.tls.ca-file': '--connect-ca',
  'elasticsearch.url': '--elasticsearch-url',
  'elasticsearch.username': '--elasticsearch-username',
  'elasticsearch.password': '--elasticsearch-password',
  'elasticsearch.api-key': '--elasticsearch-api-key',
  'elasticsearch.tls.ca-file': '--elasticsearch-ca',
  'database.url': '--database-url',
  'database.password': '--database-password',
  'tracking.url': '--tracking-url',
  'tracking.token': '--tracking-token',
  'auditing.url': '--auditing-url',
  'auditing.token': '--auditing-token',
};

/** A context name as `create` takes it; `local` means no context. */
export function checkContextName(name: string): void {
  if (name === LOCAL) throw new UsageError('"local" is reserved: it means no context, the local stack.', { hint: 'Pick another name.' });
  if (!CONTEXT_NAME.test(name)) throw new UsageError(`"${name}" is not a context name.`, { hint: 'Use 1-64 letters, digits, ".", "_" or "-".' });
}

export interface FromFlags {
  context: StoredContext;
  /** One line per literal secret: stored in the file as given. */
  warnings: string[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The context `context create` stores: every flag checked (one sentence naming it), file paths made
 * absolute as the loader reads them (`~/` is the home directory of `env`, a relative path is
 * relative to `cwd`) and checked to exist (a `file:` secret is read only when used), literal
 * secrets warned about.
 */
export function contextFromFlags(flags: Record<string, unknown>, cwd: string, env: NodeJS.ProcessEnv = process.env): FromFlags {
  const warnings: string[] = [];
  const pemFile = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const file = resolvePath(value, cwd, env);
    if (!existsSync(file)) throw new UsageError(`${flag} names ${file}, which does not exist.`, { hint: 'Give the path of a PEM file.' });
    if (!statSync(file).isFile()) throw new UsageError(`${flag} names ${file}, which is not a file.`, { hint: 'Give the path of a PEM file.' });
    return file;
  };
  const secret = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const ref = parseSecretRef(value, flag);
    if (ref.kind === 'literal') warnings.push(`${flag} is stored as a literal in the config file; prefer env:VAR or file:PATH.`);
    // file: is kept as given but made absolute: the config file's directory is not where it was typed.
    return ref.kind === 'file' ? `file:${resolvePath(ref.path, cwd, env)}` : value;
  };
  const needs = (flag: string, given: unknown, other: string) => {
    if (given !== undefined) throw new UsageError(`${flag} needs ${other}.`, { hint: `Give ${other} too, or leave ${flag} out.` });
  };
  const f = flags;
  const context: StoredContext = {};

  const brokers = text(f.bootstrapServer);
  const ca = pemFile('--kafka-ca', text(f.kafkaCa));
  const cert = pemFile('--kafka-cert', text(f.kafkaCert));
  const key = pemFile('--kafka-key', text(f.kafkaKey));
  const noVerify = f.kafkaNoVerifyHostname === true;
  const tls = f.kafkaTls === true || ca !== undefined || cert !== undefined || key !== undefined || noVerify;
  const mechanism = text(f.kafkaSaslMechanism);
  const username = text(f.kafkaUsername);
  const password = secret('--kafka-password', text(f.kafkaPassword));
  if (mechanism !== undefined && !SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
    throw new UsageError(`--kafka-sasl-mechanism "${mechanism}" is not one of ${SASL_MECHANISMS.join(', ')}.`);
  }
  if (mechanism !== undefined && (username === undefined || password === undefined)) {
    throw new UsageError('--kafka-sasl-mechanism needs --kafka-username and --kafka-password.', { hint: 'SASL authenticates a user with a password.' });
  }
  if (mechanism === undefined) {
    needs('--kafka-username', username, '--kafka-sasl-mechanism');
    needs('--kafka-password', password, '--kafka-sasl-mechanism');
  }
  if (brokers === undefined) {
    for (const [flag, given] of [
      ['--kafka-tls', f.kafkaTls || undefined],
      ['--kafka-ca', ca],
      ['--kafka-cert', cert],
      ['--kafka-key', key],
      ['--kafka-no-verify-hostname', noVerify || undefined],
      ['--kafka-sasl-mechanism', mechanism],
    ] as const)
      needs(flag, given, '--bootstrap-server');
  } else {
    context.kafka = { 'bootstrap-servers': brokers };
    if (tls) {
      const options = { 'ca-file': ca, 'cert-file': cert, 'key-file': key, ...(noVerify ? { 'verify-hostname': false } : {}) };
      const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
      context.kafka.tls = Object.keys(set).length ? set : true;
    }
    if (mechanism !== undefined) context.kafka.sasl = { mechanism: mechanism as SaslMechanism, username: username!, password: password! };
  }

  const http = (name: 'connect' | 'elasticsearch') => {
    const url = text(f[`${name}Url`]);
    const user = text(f[`${name}Username`]);
    const pass = secret(`--${name}-password`, text(f[`${name}Password`]));
    const apiKey = name === 'elasticsearch' ? secret('--elasticsearch-api-key', text(f.elasticsearchApiKey)) : undefined;
    const caFile = pemFile(`--${name}-ca`, text(f[`${name}Ca`]));
    if (url === undefined) {
      for (const [flag, given] of [
        [`--${name}-username`, user],
        [`--${name}-password`, pass],
        ['--elasticsearch-api-key', apiKey],
        [`--${name}-ca`, caFile],
      ] as const)
        needs(flag, given, `--${name}-url`);
      return;
    }
    if (user !== undefined && pass === undefined) needs(`--${name}-username`, user, `--${name}-password`);
    if (pass !== undefined && user === undefined) needs(`--${name}-password`, pass, `--${name}-username`);
    if (apiKey !== undefined && user !== undefined)
      throw new UsageError('--elasticsearch-api-key and --elasticsearch-username exclude each other.', { hint: 'Give an API key or basic auth.' });
    context[name] = {
      url,
      ...(user !== undefined ? { username: user, password: pass! } : {}),
      ...(apiKey !== undefined ? { 'api-key': apiKey } : {}),
      ...(caFile !== undefined ? { tls: { 'ca-file': caFile } } : {}),
    };
  };
  http('connect');
  http('elasticsearch');

  const databaseUrl = text(f.databaseUrl);
  const databasePassword = secret('--database-password', text(f.databasePassword));
  if (databaseUrl === undefined) needs('--database-password', databasePassword, '--database-url');
  else {
    if (urlCarriesPassword(databaseUrl))
      warnings.push('--database-url carries a password, stored as a literal in the config file; prefer --database-password env:VAR or file:PATH.');
    context.database = { url: databaseUrl, ...(databasePassword !== undefined ? { password: databasePassword } : {}) };
  }
  for (const server of ['tracking', 'auditing'] as const) {
    const url = text(f[`${server}Url`]);
    const token = secret(`--${server}-token`, text(f[`${server}Token`]));
    if (url === undefined) needs(`--${server}-token`, token, `--${server}-url`);
    else context[server] = { url, ...(token !== undefined ? { token } : {}) };
  }
  for (const name of ['connect', 'elasticsearch'] as const) {
    if (context[name]?.url && urlCarriesPassword(context[name].url))
      warnings.push(`--${name}-url carries a password, stored as a literal in the config file; prefer --${name}-password env:VAR or file:PATH.`);
  }

  // The file's schema is the last word; its problems are told by the flag that set the field.
  const issue = firstIssue(contextSchema, context);
  if (issue) {
    const field = issue.path.join('.');
    throw new UsageError(`${FIELD_FLAGS[field] ?? field} ${issue.message}.`);
  }
  if (Object.keys(context).length === 0) {
    throw new UsageError('A context needs at least one endpoint.', {
      hint: 'Give --bootstrap-server, --connect-url, --elasticsearch-url, --database-url, --tracking-url or --auditing-url.',
    });
  }
  return { context, warnings };
}
