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
  /** The stack's state file (only its endpoints are read): lib/ knows nothing of src/stack. */
  state?: { endpoints: Record<string, string> };
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
