import { UsageError } from './errors.js';
import type { HttpTarget, KafkaTarget, SaslMechanism, TlsOptions } from './targets.js';

/** Every external endpoint outboxctl talks to, with its flag, env var and default. */
export const ENDPOINTS = {
  database: { flag: '--database-url', option: 'databaseUrl', env: 'DATABASE_URL', fallback: undefined },
  kafka: { flag: '--bootstrap-server', option: 'bootstrapServer', env: 'KAFKA_BOOTSTRAP_SERVERS', fallback: 'localhost:9092' },
  connect: { flag: '--connect-url', option: 'connectUrl', env: 'KAFKA_CONNECT_URL', fallback: 'http://localhost:8083' },
  elasticsearch: { flag: '--elasticsearch-url', option: 'elasticsearchUrl', env: 'ELASTICSEARCH_URL', fallback: 'http://localhost:9200' },
  tracking: { flag: '--tracking-url', option: 'trackingUrl', env: 'TRACKING_URL', fallback: 'http://localhost:8080' },
  auditing: { flag: '--auditing-url', option: 'auditingUrl', env: 'AUDITING_URL', fallback: 'http://localhost:5000' },
} as const satisfies Record<string, { flag: string; option: string; env: string; fallback: string | undefined }>;

export type EndpointName = keyof typeof ENDPOINTS;
export type EndpointSource = 'flag' | 'env' | 'context' | 'state' | 'default';

export interface ResolvedEndpoint {
  value: string | undefined;
  source: EndpointSource;
}

/**
 * A secret a context names, read only when its endpoint is used: a `topic list` does not fail
 * because the auditing token's variable is unset.
 */
export interface ContextSecret {
  /** What may be printed: the reference (`env:KAFKA_PASSWORD`, `file:/run/secrets/pw`), or `****` for a literal. */
  readonly display: string;
  /** The secret; throws a UserError naming the context, the field and the reference (never the secret) when it cannot be read. */
  read(): string;
}

/** An HTTP endpoint of a context: its URL and how to authenticate. */
export interface ContextHttpEndpoint {
  url: string;
  tls?: TlsOptions;
  basic?: { username: string; password: ContextSecret };
  apiKey?: ContextSecret;
  token?: ContextSecret;
}

/**
 * A selected context's endpoints with their auth (src/contexts/ builds it from the config file):
 * what it does not name, it does not have; no stack state is read under a context.
 */
export interface ContextTargets {
  name: string;
  kafka?: { brokers: string; tls?: TlsOptions; sasl?: { mechanism: SaslMechanism; username: string; password: ContextSecret } };
  connect?: ContextHttpEndpoint;
  elasticsearch?: ContextHttpEndpoint;
  tracking?: ContextHttpEndpoint;
  auditing?: ContextHttpEndpoint;
  /** The URL as given (`sslmode`, `sslrootcert` keep libpq's meaning), and a password it lacks. */
  database?: { url: string; password?: ContextSecret };
}

export interface ResolveInput {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** The selected context: it replaces the stack state (callers pass no state under a context). */
  context?: ContextTargets;
  /** The stack's state file (only its endpoints and secrets are read): lib/ knows nothing of src/stack. */
  state?: { endpoints: Record<string, string>; secrets?: Record<string, string> };
}

/** The address a context gives for an endpoint. */
function contextAddress(name: EndpointName, context: ContextTargets): string | undefined {
  if (name === 'kafka') return context.kafka?.brokers;
  return context[name]?.url;
}

/** What a context section is called in the config file, for messages. */
const CONTEXT_FIELD: Record<EndpointName, string> = {
  database: 'database.url',
  kafka: 'kafka.bootstrap-servers',
  connect: 'connect.url',
  elasticsearch: 'elasticsearch.url',
  tracking: 'tracking.url',
  auditing: 'auditing.url',
};

/**
 * The one place endpoints are resolved: flag > environment > context > state > default. Under a
 * context neither the state nor the default is used (environments never mix): an endpoint the
 * context does not name, and no flag or variable gives, is a usage error naming the context.
 */
export function resolveEndpoint(name: EndpointName, input: ResolveInput): ResolvedEndpoint {
  const spec = ENDPOINTS[name];
  const flag = input.flags[spec.option];
  if (typeof flag === 'string' && flag !== '') return { value: flag, source: 'flag' };
  const fromEnv = input.env[spec.env];
  if (fromEnv) return { value: fromEnv, source: 'env' };
  if (input.context) {
    const fromContext = contextAddress(name, input.context);
    if (fromContext) return { value: fromContext, source: 'context' };
    throw new UsageError(
      `Context "${input.context.name}" names no ${name} endpoint (${CONTEXT_FIELD[name]}), and neither ${spec.flag} nor ${spec.env} gives one.`,
      {
        hint: `Add it with \`outboxctl context create ${input.context.name} --force …\` (or edit the config file), or pass ${spec.flag}.`,
      },
    );
  }
  const fromState = input.state?.endpoints[name];
  if (fromState) return { value: fromState, source: 'state' };
  return { value: spec.fallback, source: 'default' };
}

/**
 * The variable that gives an endpoint's address instead of the selected context, if one does: a
 * context's TLS settings and credentials go only to the address the context names or a flag gives
 * (an explicit choice); an address from the shell's environment gets none of them, so a stray
 * KAFKA_BOOTSTRAP_SERVERS never receives prod's SASL password.
 */
export function contextOverriddenBy(name: EndpointName, input: ResolveInput): string | undefined {
  if (!input.context) return undefined;
  const spec = ENDPOINTS[name];
  const flag = input.flags[spec.option];
  if (typeof flag === 'string' && flag !== '') return undefined;
  return input.env[spec.env] ? spec.env : undefined;
}

/**
 * Kafka as the clients take it: the bootstrap servers by resolveEndpoint's precedence, TLS and SASL
 * from the context when the address is the context's or a flag's (a --bootstrap-server that
 * overrides only the address keeps the context's auth, as kcat does; KAFKA_BOOTSTRAP_SERVERS gets
 * none of it); the SASL password is read now.
 */
export function resolveKafkaTarget(input: ResolveInput): KafkaTarget {
  const brokers = resolveEndpoint('kafka', input).value!;
  const kafka = contextOverriddenBy('kafka', input) ? undefined : input.context?.kafka;
  if (!kafka) return { brokers };
  return {
    brokers,
    ...(kafka.tls ? { tls: { ...kafka.tls } } : {}),
    ...(kafka.sasl ? { sasl: { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password.read() } } : {}),
  };
}

export type HttpEndpointName = 'connect' | 'elasticsearch' | 'tracking' | 'auditing';

/**
 * An HTTP endpoint as the clients take it: the URL by resolveEndpoint's precedence, TLS, basic auth
 * and the API key from the context (kept when a flag overrides only the URL, dropped when a
 * variable does: contextOverriddenBy); for the tracking and auditing servers the bearer token by
 * resolveToken's precedence. Secrets are read now.
 */
export function resolveHttpTarget(name: HttpEndpointName, input: ResolveInput): HttpTarget {
  const url = resolveEndpoint(name, input).value!;
  const endpoint = contextOverriddenBy(name, input) ? undefined : input.context?.[name];
  const target: HttpTarget = { url };
  if (endpoint?.tls) target.tls = { ...endpoint.tls };
  if (endpoint?.basic) target.basic = { username: endpoint.basic.username, password: endpoint.basic.password.read() };
  if (endpoint?.apiKey) target.apiKey = endpoint.apiKey.read();
  if (name === 'tracking' || name === 'auditing') {
    const token = resolveToken(input, name).value;
    if (token) target.token = token;
  }
  return target;
}

/**
 * The database URL a client connects with: resolveEndpoint's, with the context's password put into
 * it (read now) when the URL is the context's or --database-url's and carries none of its own;
 * never into DATABASE_URL (contextOverriddenBy). Print it only through redactUrl.
 */
export function resolveDatabaseUrl(input: ResolveInput): ResolvedEndpoint {
  const resolved = resolveEndpoint('database', input);
  const password = contextOverriddenBy('database', input) ? undefined : input.context?.database?.password;
  if (!resolved.value || !password) return resolved;
  let url: URL;
  try {
    url = new URL(resolved.value);
  } catch {
    return resolved;
  }
  if (url.password || url.searchParams.has('password')) return resolved;
  url.password = encodeURIComponent(password.read());
  return { value: url.toString(), source: resolved.source };
}

export const TOKEN_ENV = 'OUTBOXCTL_TOKEN';

/** What to do about a 401 from the tracking or auditing server. */
export const TOKEN_HINT = `Give the server's token with --token or ${TOKEN_ENV} (a stack started with a token records it for outboxctl).`;

export interface ResolvedToken {
  value: string | undefined;
  source: 'flag' | 'env' | 'context' | 'state' | 'none';
}

/** What an `Authorization: Bearer` header can carry: visible ASCII, no spaces. */
const TOKEN_TEXT = /^[\x21-\x7e]{1,4096}$/;

/**
 * The bearer token for the tracking and auditing servers: `--token` > OUTBOXCTL_TOKEN > the
 * context's token for `server` (read now; not when TRACKING_URL / AUDITING_URL overrides the
 * context's address) > the stack state's `secrets.token` > none (the servers take only the first two). A token a header cannot carry is a usage error naming where it came from.
 */
export function resolveToken(input: ResolveInput, server?: 'tracking' | 'auditing'): ResolvedToken {
  const check = (value: string, where: string, source: ResolvedToken['source']): ResolvedToken => {
    if (TOKEN_TEXT.test(value)) return { value, source };
    throw new UsageError(`${where} is not a token an Authorization header can carry.`, {
      hint: 'Use visible ASCII characters only: no spaces, no line breaks.',
    });
  };
  // Only a string is a token: `up --token` is a switch that asks for one to be generated.
  const flag = input.flags.token;
  if (typeof flag === 'string') {
    if (flag === '') throw new UsageError('--token is empty.', { hint: 'Give the token the server was started with, or leave --token out.' });
    return check(flag, '--token', 'flag');
  }
  const fromEnv = input.env[TOKEN_ENV];
  if (fromEnv) return check(fromEnv, TOKEN_ENV, 'env');
  if (input.context) {
    const secret = server && !contextOverriddenBy(server, input) ? input.context[server]?.token : undefined;
    if (secret) return check(secret.read(), `The token of context "${input.context.name}" for ${server} (${secret.display})`, 'context');
    // Under a context the stack's token is not the remote servers'.
    return { value: undefined, source: 'none' };
  }
  const fromState = input.state?.secrets?.token;
  if (fromState) return check(fromState, "The stack state's secrets.token", 'state');
  return { value: undefined, source: 'none' };
}

/** Query parameters that hold a secret: pg-connection-string takes the password (and the key's) from the query too. */
const QUERY_SECRETS = new Set(['password', 'sslpassword']);

/** A query string (without `?`) with the value of every secret parameter replaced by `****`; the rest as it was. */
function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const rawKey = pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // Malformed escapes: the key as written.
      }
      return QUERY_SECRETS.has(key.toLowerCase()) && eq < pair.length - 1 ? `${rawKey}=****` : pair;
    })
    .join('&');
}

/** Whether a URL carries a password: in its userinfo, or as a `password` / `sslpassword` query parameter. */
export function urlCarriesPassword(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.password !== '' || [...parsed.searchParams].some(([key, value]) => QUERY_SECRETS.has(key.toLowerCase()) && value !== '');
  } catch {
    return false;
  }
}

/** A URL safe to print: the userinfo password and `password` / `sslpassword` query parameters replaced by `****`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    let changed = false;
    if (parsed.password) {
      parsed.password = '****';
      changed = true;
    }
    const query = parsed.search.slice(1);
    const redacted = redactQuery(query);
    if (redacted !== query) {
      parsed.search = `?${redacted}`;
      changed = true;
    }
    return changed ? parsed.toString() : url;
  } catch {
    const withoutUserinfo = url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:****@');
    const at = withoutUserinfo.indexOf('?');
    if (at < 0) return withoutUserinfo;
    const hash = withoutUserinfo.indexOf('#', at);
    const end = hash < 0 ? withoutUserinfo.length : hash;
    return `${withoutUserinfo.slice(0, at + 1)}${redactQuery(withoutUserinfo.slice(at + 1, end))}${withoutUserinfo.slice(end)}`;
  }
}
