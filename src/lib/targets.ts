/**
 * How outboxctl reaches each system, with its authentication: what a context (or a local stack)
 * resolves to and what the clients in src/clients/ take. Secrets here are already resolved (a
 * context's `env:VAR` / `file:PATH` references read); paths name PEM files the clients read.
 */

export interface TlsOptions {
  /** PEM file of the certificate authorities to trust (default: Node's bundled ones). */
  caFile?: string;
  /** PEM files of a client certificate and its key (mutual TLS). */
  certFile?: string;
  keyFile?: string;
  /** Check that the server's certificate names the host it was reached at (default true). */
  verifyHostname?: boolean;
}

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface SaslOptions {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** Kafka: bootstrap servers, TLS when `tls` is present (even `{}`), SASL when `sasl` is. */
export interface KafkaTarget {
  /** host:port[,host:port…] */
  brokers: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
}

/** An HTTP(S) endpoint: Connect, the search engine, the tracking and auditing servers. */
export interface HttpTarget {
  url: string;
  /** For an https:// URL: whom to trust, a client certificate. */
  tls?: TlsOptions;
  /** HTTP basic auth (Connect, the search engine). Credentials in the URL's userinfo mean the same. */
  basic?: { username: string; password: string };
  /** The search engine's API key (`Authorization: ApiKey …`): the base64 `id:key` Elasticsearch returns. */
  apiKey?: string;
  /** A bearer token (the tracking and auditing servers). */
  token?: string;
}

/** A bare address as a target without auth: what a local stack and the endpoint flags give. */
export function kafkaTarget(target: string | KafkaTarget): KafkaTarget {
  return typeof target === 'string' ? { brokers: target } : target;
}

export function httpTarget(target: string | HttpTarget): HttpTarget {
  return typeof target === 'string' ? { url: target } : target;
}

/** How a Kafka target authenticates, for messages: "SASL_SSL (SCRAM-SHA-512 as alice)", "PLAINTEXT". */
export function kafkaSecurityLabel(target: KafkaTarget): string {
  const protocol = target.tls ? (target.sasl ? 'SASL_SSL' : 'SSL') : target.sasl ? 'SASL_PLAINTEXT' : 'PLAINTEXT';
  return target.sasl ? `${protocol} (${target.sasl.mechanism.toUpperCase()} as ${target.sasl.username})` : protocol;
}

/** How an HTTP target authenticates, for messages: "basic auth as alice", "an API key", "a bearer token", "no auth". */
export function httpAuthLabel(target: HttpTarget): string {
  if (target.basic) return `basic auth as ${target.basic.username}`;
  if (target.apiKey) return 'an API key';
  if (target.token) return 'a bearer token';
  try {
    const u = new URL(target.url);
    if (u.username) return `basic auth as ${decodeURIComponent(u.username)}`;
  } catch {
    // not a URL: no auth to name
  }
  return 'no auth';
}
