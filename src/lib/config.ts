import { UsageError } from './errors.js';

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
export type EndpointSource = 'flag' | 'env' | 'state' | 'default';

export interface ResolvedEndpoint {
  value: string | undefined;
  source: EndpointSource;
}

export interface ResolveInput {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** The stack's state file (only its endpoints and secrets are read): lib/ knows nothing of src/stack. */
  state?: { endpoints: Record<string, string>; secrets?: Record<string, string> };
}

/** The one place endpoints are resolved: flag > environment > state > default. */
export function resolveEndpoint(name: EndpointName, input: ResolveInput): ResolvedEndpoint {
  const spec = ENDPOINTS[name];
  const flag = input.flags[spec.option];
  if (typeof flag === 'string' && flag !== '') return { value: flag, source: 'flag' };
  const fromEnv = input.env[spec.env];
  if (fromEnv) return { value: fromEnv, source: 'env' };
  const fromState = input.state?.endpoints[name];
  if (fromState) return { value: fromState, source: 'state' };
  return { value: spec.fallback, source: 'default' };
}

export const TOKEN_ENV = 'OUTBOXCTL_TOKEN';

/** What to do about a 401 from the tracking or auditing server. */
export const TOKEN_HINT = `Give the server's token with --token or ${TOKEN_ENV} (a stack started with a token records it for outboxctl).`;

export interface ResolvedToken {
  value: string | undefined;
  source: 'flag' | 'env' | 'state' | 'none';
}

/** What an `Authorization: Bearer` header can carry: visible ASCII, no spaces. */
const TOKEN_TEXT = /^[\x21-\x7e]{1,4096}$/;

/**
 * The bearer token for the tracking and auditing servers: `--token` > OUTBOXCTL_TOKEN > the stack
 * state's `secrets.token` > none (the servers take only the first two). A token a header cannot
 * carry is a usage error naming where it came from.
 */
export function resolveToken(input: ResolveInput): ResolvedToken {
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
  const fromState = input.state?.secrets?.token;
  if (fromState) return check(fromState, "The stack state's secrets.token", 'state');
  return { value: undefined, source: 'none' };
}

/** A URL safe to print: the password replaced by `****`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '****';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:****@');
  }
}
