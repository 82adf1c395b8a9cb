import { connectPg, quoteIdent, quoteLiteral, withPg } from '../../clients/pg.js';
import { asUnprivileged, initCluster, isInitialized, postgresBinaries } from '../runtimes/native/embedded-postgres.js';
import type { Component, ServiceContext } from './types.js';

/** What the stack's PostgreSQL is, independent of how a runtime runs it. */
export const postgresComponent = {
  name: 'postgres',
  /** The seed's port; taken on many machines, so a free one is used instead. */
  defaultPort: 5432,
  database: 'outbox',
  superuser: 'postgres',
  /** Debezium 3.6 supports PostgreSQL 14-18; the embedded binaries are 17. */
  major: 17,
  serverArgs: [
    '-c', 'wal_level=logical',
    '-c', 'max_wal_senders=10',
    '-c', 'max_replication_slots=10',
    '-c', 'unix_socket_directories=',
  ],
} as const;

export const DEBEZIUM_ROLE = 'debezium';

export function databaseUrl(host: string, port: number, password: string, database: string = postgresComponent.database, user: string = postgresComponent.superuser): string {
  return `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}

async function adminUrl(ctx: ServiceContext, database = 'postgres'): Promise<string> {
  return databaseUrl(ctx.clientHost, ctx.ports.main!, await ctx.secret('postgresPassword'), database);
}

/**
 * The role Debezium connects as: LOGIN and REPLICATION, reading the project's tables;
 * its password is generated per stack and kept in the state file.
 */
export async function ensureDebeziumRole(url: string, password: string): Promise<void> {
  await withPg(url, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [DEBEZIUM_ROLE]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await client.query(`${verb} ROLE ${quoteIdent(DEBEZIUM_ROLE)} WITH LOGIN REPLICATION PASSWORD ${quoteLiteral(password)}`);
    await client.query(`GRANT CONNECT, CREATE ON DATABASE ${quoteIdent(postgresComponent.database)} TO ${quoteIdent(DEBEZIUM_ROLE)}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(DEBEZIUM_ROLE)}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(DEBEZIUM_ROLE)}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${quoteIdent(DEBEZIUM_ROLE)}`);
    // Debezium's heartbeat.action.query upserts one row here (created by migration V4).
    const heartbeat = await client.query("SELECT to_regclass('public.debezium_heartbeat') IS NOT NULL AS present");
    if (heartbeat.rows[0]?.present) await client.query(`GRANT INSERT, UPDATE ON public.debezium_heartbeat TO ${quoteIdent(DEBEZIUM_ROLE)}`);
  });
}

/** The embedded PostgreSQL as a managed service of the stack. */
export const postgresService: Component = {
  name: 'postgres',
  summary: `PostgreSQL ${postgresComponent.major} (embedded-postgres binaries)`,
  version: String(postgresComponent.major),
  dependsOn: [],
  ports: [{ name: 'main', preferred: postgresComponent.defaultPort }],
  probe: 'a query (SELECT 1)',
  // Fast shutdown: roll back open transactions, checkpoint, exit.
  stopSignal: 'SIGINT',
  stopGraceMs: 30_000,

  async prepare(ctx) {
    if (isInitialized(ctx.dataDir)) return;
    ctx.onProgress(`initializing PostgreSQL data directory ${ctx.dataDir}`);
    await initCluster(ctx.dataDir, postgresComponent.superuser, await ctx.secret('postgresPassword'));
  },

  async launch(ctx) {
    const { postgres } = await postgresBinaries();
    const [command, args] = asUnprivileged(postgres, ['-D', ctx.dataDir, '-p', String(ctx.ports.main), '-c', `listen_addresses=${ctx.host}`, ...postgresComponent.serverArgs]);
    return { command, args, env: { LC_MESSAGES: 'C' } };
  },

  async ready(ctx) {
    const client = await connectPg(await adminUrl(ctx), { connectTimeoutMs: 2_000 });
    await client.end();
  },

  async afterReady(ctx) {
    await withPg(await adminUrl(ctx), async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [postgresComponent.database]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(postgresComponent.database)}`);
    });
  },

  endpointNames: ['database'],
  endpoints: async (ctx) => ({ database: databaseUrl(ctx.clientHost, ctx.ports.main!, await ctx.secret('postgresPassword')) }),
};
