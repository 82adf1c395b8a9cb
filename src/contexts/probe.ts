import {
  type ContextTargets,
  contextOverriddenBy,
  type EndpointName,
  type ResolveInput,
  redactUrl,
  resolveDatabaseUrl,
  resolveEndpoint,
  resolveHttpTarget,
  resolveKafkaTarget,
  urlCarriesPassword,
} from '../lib/config.js';
import { toCliError, UserError } from '../lib/errors.js';
import { httpAuthLabel, kafkaSecurityLabel } from '../lib/targets.js';

/** One endpoint of a context, as `status` reports it. */
export interface EndpointProbe {
  name: EndpointName;
  /** Where it was asked (credentials masked). */
  address: string;
  /** How it authenticates: `SASL_SSL (SCRAM-SHA-512 as alice)`, `basic auth as admin`, `no auth`. */
  auth: string;
  reachable: boolean;
  /** The server's version where it is cheap to learn; else what was seen (`12 topics`). */
  version: string | null;
  /** Why it is not reachable, in one sentence (never a secret). */
  error: { code: string; message: string; hint: string | null } | null;
  seconds: number;
}

/** The endpoints a context names, in this order. */
const ORDER: EndpointName[] = ['kafka', 'connect', 'elasticsearch', 'database', 'tracking', 'auditing'];

/** A probe that answers neither way in time counts as unreachable. */
const PROBE_TIMEOUT_MS = 20_000;

/**
 * Asks every endpoint the context names whether it answers (with the context's auth: a wrong
 * password is a failure too), all at once; the addresses as resolution gives them (a variable wins).
 */
export async function probeContext(context: ContextTargets, input: Omit<ResolveInput, 'context' | 'state'>): Promise<EndpointProbe[]> {
  const resolveInput: ResolveInput = { ...input, context };
  const named = ORDER.filter((name) => context[name] !== undefined);
  return Promise.all(named.map((name) => probeOne(name, resolveInput)));
}

async function probeOne(name: EndpointName, input: ResolveInput): Promise<EndpointProbe> {
  const begin = performance.now();
  const address = displayAddress(name, input);
  const auth = authLabel(name, input);
  try {
    const run = prober(name, input);
    const version = await withTimeout(run(), PROBE_TIMEOUT_MS, `${name} at ${address} did not answer within ${PROBE_TIMEOUT_MS / 1000}s.`);
    return { name, address, auth, reachable: true, version, error: null, seconds: elapsed(begin) };
  } catch (error) {
    const e = toCliError(error);
    return { name, address, auth, reachable: false, version: null, error: { code: e.code, message: e.message, hint: e.hint ?? null }, seconds: elapsed(begin) };
  }
}

const elapsed = (begin: number) => Math.round(performance.now() - begin) / 1000;

function displayAddress(name: EndpointName, input: ResolveInput): string {
  const value = resolveEndpoint(name, input).value ?? '';
  return name === 'kafka' ? value : redactUrl(value);
}

/** How an endpoint authenticates, from the context alone: no secret is read to say so. */
function authLabel(name: EndpointName, input: ResolveInput): string {
  // An address from the environment gets none of the context's TLS settings or credentials.
  const override = contextOverriddenBy(name, input);
  if (override) return `none from the context (${override} overrides its address)`;
  const context = input.context!;
  if (name === 'kafka') {
    const k = context.kafka!;
    return kafkaSecurityLabel({
      brokers: k.brokers,
      tls: k.tls,
      ...(k.sasl ? { sasl: { mechanism: k.sasl.mechanism, username: k.sasl.username, password: '' } } : {}),
    });
  }
  if (name === 'database') {
    const secret = context.database?.password;
    return secret ? `password (${secret.display})` : urlCarriesPassword(context.database!.url) ? 'password in the URL' : 'no password';
  }
  const e = context[name]!;
  const label = httpAuthLabel({
    url: e.url,
    ...(e.basic ? { basic: { username: e.basic.username, password: '' } } : {}),
    ...(e.apiKey ? { apiKey: '-' } : {}),
    ...(e.token ? { token: '-' } : {}),
  });
  return e.tls?.caFile && e.url.startsWith('https:') ? `${label}, CA ${e.tls.caFile}` : label;
}

/** How to ask one endpoint (resolving its secrets now: one that cannot be read fails the probe). */
function prober(name: EndpointName, input: ResolveInput): () => Promise<string | null> {
  switch (name) {
    case 'kafka': {
      const target = resolveKafkaTarget(input);
      return async () => {
        const { KafkaAdmin } = await import('../clients/kafka.js');
        const admin = await KafkaAdmin.connect(target);
        try {
          const topics = await admin.list();
          return `${topics.length} topic${topics.length === 1 ? '' : 's'}`;
        } finally {
          await admin.close().catch(() => undefined);
        }
      };
    }
    case 'connect': {
      const target = resolveHttpTarget('connect', input);
      return async () => {
        const { ConnectClient } = await import('../clients/connect.js');
        const plugins = await new ConnectClient(target, { deadlineMs: 10_000, requestTimeoutMs: 5_000 }).plugins();
        // Kafka's own plugins carry the worker's version; Debezium's its own.
        const kafka = plugins.find((p) => p.class.startsWith('org.apache.kafka.'))?.version;
        const debezium = plugins.find((p) => p.class.startsWith('io.debezium.'))?.version;
        return [kafka, debezium ? `(Debezium ${debezium})` : undefined].filter(Boolean).join(' ') || `${plugins.length} plugins`;
      };
    }
    case 'elasticsearch': {
      const target = resolveHttpTarget('elasticsearch', input);
      return async () => {
        const { SearchClient } = await import('../clients/search.js');
        // connect, not detect: its errors are the sentences every command gives (unreachable, TLS, rejected auth).
        const search = await SearchClient.connect(target, { deadlineMs: 3_000 });
        await search.close().catch(() => undefined);
        return `${search.engine.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${search.engine.version}`;
      };
    }
    case 'database': {
      const url = resolveDatabaseUrl(input).value!;
      return async () => {
        const { withPg } = await import('../clients/pg.js');
        return withPg(url, async (client) => `PostgreSQL ${(await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version}`, {
          connectTimeoutMs: 10_000,
        });
      };
    }
    case 'tracking': {
      const target = resolveHttpTarget('tracking', input);
      return async () => {
        const { TrackingClient } = await import('../clients/tracking.js');
        // A read behind the token: a wrong token is a failure here, as it would be for `parcel list`.
        await new TrackingClient(target).list(1);
        return null;
      };
    }
    case 'auditing': {
      const target = resolveHttpTarget('auditing', input);
      return async () => {
        const { AuditingClient } = await import('../clients/auditing.js');
        await new AuditingClient(target).get('/events', { limit: 1 });
        return null;
      };
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UserError('PROBE_TIMEOUT', message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
