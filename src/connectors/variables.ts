import { resolveEndpoint } from '../lib/config.js';
import { UserError } from '../lib/errors.js';
import { DEBEZIUM_ROLE } from '../stack/components/postgres.js';
import { CONTAINER_SECRETS_DIR, stackSecretsDir } from '../stack/components/secrets.js';
import { resolveHome, stackPaths } from '../stack/paths.js';
import type { StackState } from '../stack/state.js';

/** The stack's own replication slot: `outboxctl_<stack>`, in the characters PostgreSQL allows (63 at most). */
export function debeziumSlotName(stack: string): string {
  return `outboxctl_${stack.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

function databaseParts(url: string | undefined): Record<string, string> {
  if (!url) return {};
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError('DATABASE_URL_INVALID', 'The database URL is not a valid URL, so POSTGRES_HOST/PORT/DB cannot be derived from it.', {
      hint: 'Fix DATABASE_URL, or set POSTGRES_HOST, POSTGRES_PORT and POSTGRES_DB.',
    });
  }
  const parts: Record<string, string> = { POSTGRES_HOST: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), POSTGRES_PORT: parsed.port || '5432' };
  const db = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (db) parts.POSTGRES_DB = db;
  return parts;
}

/**
 * The stack's secrets directory as its Connect worker reads it (the FileConfigProvider's allowed
 * path): `/run/secrets` in a container, `<stack>/secrets` on the host; unknown without a stack Connect.
 */
function connectSecretsDir(stack: string, recorded: StackState | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const connect = recorded?.services.connect;
  if (!connect) return undefined;
  return connect.runtime === 'docker' ? CONTAINER_SECRETS_DIR : stackSecretsDir(stackPaths(resolveHome(env), stack));
}

/**
 * Values for `${VAR}` in connector files: derived from the stack (its state, or the endpoints
 * DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ELASTICSEARCH_URL name); the environment wins, and
 * any other environment variable can be used as well. `connect`: as the stack's Connect worker
 * reaches them (on the stack's network when it runs in a container).
 */
export function connectorVariables(
  stack: string,
  recorded: StackState | undefined,
  env: NodeJS.ProcessEnv,
  view: 'host' | 'connect' = 'host',
): Record<string, string> {
  // A Connect container reaches its peers on the stack's network, not where the host does.
  const state =
    view === 'connect' && recorded?.services.connect?.runtime === 'docker' && recorded.networkEndpoints
      ? { ...recorded, endpoints: { ...recorded.endpoints, ...recorded.networkEndpoints } }
      : recorded;
  const endpoint = (name: 'database' | 'kafka' | 'elasticsearch') => resolveEndpoint(name, { flags: {}, env, state }).value;
  const derived: Record<string, string | undefined> = {
    ...databaseParts(endpoint('database')),
    DEBEZIUM_USER: DEBEZIUM_ROLE,
    // The password itself, for files of one's own; the packaged source file names the file Connect reads it from instead.
    DEBEZIUM_PASSWORD: state?.secrets.debeziumPassword,
    CONNECT_SECRETS_DIR: connectSecretsDir(stack, recorded, env),
    DEBEZIUM_SLOT: debeziumSlotName(stack),
    KAFKA_BOOTSTRAP_SERVERS: endpoint('kafka'),
    ELASTICSEARCH_URL: endpoint('elasticsearch'),
    STACK: stack,
  };
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(derived)) if (value !== undefined) vars[name] = value;
  // Any other environment variable may be used too (a file's own `${ES_PASSWORD}`).
  for (const [name, value] of Object.entries(env)) if (value && /^[A-Z0-9_]+$/.test(name)) vars[name] = value;
  return vars;
}
