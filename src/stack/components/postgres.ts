import { connectPg, quoteIdent, quoteLiteral, withPg } from '../../clients/pg.js';
import { EnvironmentError } from '../../lib/errors.js';
import type { Component, EndpointContext } from './types.js';
import { POSTGRES_IMAGE } from './versions.js';

/** What the stack's PostgreSQL is, independent of how a runtime runs it. */
export const postgresComponent = {
  name: 'postgres',
  /** The seed's port; taken on many machines, so a free one is used instead. */
  defaultPort: 5432,
  database: 'outbox',
  superuser: 'postgres',
  /** Debezium 3.6 supports PostgreSQL 14-18; the embedded binaries are 17. */
  major: 17,
  /** Server settings for Debezium (`-c NAME=VALUE` each), whatever runs it. */
  settings: ['wal_level=logical', 'max_wal_senders=10', 'max_replication_slots=10'],
} as const;

// The binaries are the native section's business: loaded when PostgreSQL starts, not by every command.
const embeddedPostgres = () => import('../runtimes/native/embedded-postgres.js');

export const DEBEZIUM_ROLE = 'debezium';

export function databaseUrl(
  host: string,
  port: number,
  password: string,
  database: string = postgresComponent.database,
  user: string = postgresComponent.superuser,
): string {
  return `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}

function adminUrl(at: EndpointContext, password: string, database = 'postgres'): string {
  return databaseUrl(at.host, at.ports.main!, password, database);
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

export const TRACKING_ROLE = 'tracking';

/**
 * What the tracking server may do, table by table (src/servers/tracking/repository.ts): read and
 * write parcels and idempotency keys, append to the outbox. Nothing else: no TRUNCATE, REFERENCES
 * or TRIGGER, no other table (flyway_schema_history, debezium_heartbeat), no DDL.
 */
export const TRACKING_GRANTS: Record<string, string[]> = {
  parcel: ['SELECT', 'INSERT', 'UPDATE'],
  idempotency_key: ['SELECT', 'INSERT', 'UPDATE'],
  outbox: ['INSERT'],
};

/**
 * The role the tracking server connects as: LOGIN, no superuser, owner of nothing (the migrations
 * run as the owner, before it starts), exactly TRACKING_GRANTS. With delete-after-insert it may also
 * delete outbox rows, and read their `id` (the delete's WHERE clause needs it); without, neither.
 * Idempotent: run before every start of the tracking server, it takes away what the start does not need.
 */
export async function ensureTrackingRole(url: string, password: string, options: { deleteAfterInsert: boolean }): Promise<void> {
  const role = quoteIdent(TRACKING_ROLE);
  await withPg(url, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TRACKING_ROLE]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await client.query(`${verb} ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(password)}`);
    await client.query('BEGIN');
    try {
      await client.query(`GRANT CONNECT ON DATABASE ${quoteIdent(postgresComponent.database)} TO ${role}`);
      await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      // Table and column privileges alike: only what follows stays.
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
      await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`);
      for (const [table, privileges] of Object.entries(TRACKING_GRANTS)) {
        await client.query(`GRANT ${privileges.join(', ')} ON public.${quoteIdent(table)} TO ${role}`);
      }
      if (options.deleteAfterInsert) await client.query(`GRANT DELETE, SELECT (id) ON public.outbox TO ${role}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** The stack's PostgreSQL: logical decoding on, the `outbox` database created after each start. */
export const postgresService: Component = {
  name: 'postgres',
  summary: `PostgreSQL ${postgresComponent.major} (embedded-postgres binaries)`,
  version: String(postgresComponent.major),
  dependsOn: [],
  ports: [{ name: 'main', preferred: postgresComponent.defaultPort, container: 5432 }],
  readiness: {
    describe: 'a query (SELECT 1)',
    check: {
      kind: 'query',
      async run(at) {
        const client = await connectPg(adminUrl(at, await at.secret('postgresPassword')), { connectTimeoutMs: 2_000 });
        await client.end();
      },
    },
  },

  async afterReady(at) {
    return withPg(adminUrl(at, await at.secret('postgresPassword')), async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [postgresComponent.database]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(postgresComponent.database)}`);
      // Status shows the server that answers ("17.10"), not only the major it was meant to be.
      const { rows } = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
      return { version: rows[0]?.version.split(' ')[0] };
    });
  },

  // libpq's own settings: the machine's (or the container's) psql reaches the stack's database as is.
  execEnv: async (at) => ({
    PGHOST: at.host,
    PGPORT: String(at.ports.main),
    PGUSER: postgresComponent.superuser,
    PGPASSWORD: await at.secret('postgresPassword'),
    PGDATABASE: postgresComponent.database,
  }),

  endpointNames: ['database'],
  endpoints: async (at) => ({ database: databaseUrl(at.host, at.ports.main!, await at.secret('postgresPassword')) }),

  native: {
    // Fast shutdown: roll back open transactions, checkpoint, exit.
    stopSignal: 'SIGINT',
    stopGraceMs: 30_000,

    async prepare(ctx) {
      const { isInitialized, initCluster, awaitCrashedPostmaster } = await embeddedPostgres();
      if (isInitialized(ctx.dataDir)) {
        await awaitCrashedPostmaster(ctx.dataDir);
        // A new password would not open the existing cluster.
        if (!(await ctx.state())?.secrets.postgresPassword) {
          throw new EnvironmentError('POSTGRES_PASSWORD_LOST', `The PostgreSQL data in ${ctx.dataDir} has no password in the stack's state file.`, {
            hint: `Delete ${ctx.dataDir} (its data is lost) or restore ${ctx.paths.stateFile}.`,
          });
        }
        return;
      }
      ctx.onProgress(`initializing PostgreSQL data directory ${ctx.dataDir}`);
      await initCluster(ctx.dataDir, postgresComponent.superuser, await ctx.secret('postgresPassword'));
    },

    async launch(ctx) {
      const { postgresBinaries, asUnprivileged } = await embeddedPostgres();
      const { postgres } = await postgresBinaries();
      const [command, args] = asUnprivileged(postgres, [
        '-D',
        ctx.dataDir,
        '-p',
        String(ctx.ports.main),
        '-c',
        `listen_addresses=${ctx.host}`,
        ...postgresComponent.settings.flatMap((s) => ['-c', s]),
        // TCP only: no socket file in a shared directory.
        '-c',
        'unix_socket_directories=',
      ]);
      return { command, args, env: { LC_MESSAGES: 'C' } };
    },
  },

  container: {
    image: POSTGRES_IMAGE,
    command: () => ['postgres', ...postgresComponent.settings.flatMap((s) => ['-c', s])],
    env: async (ctx) => ({
      POSTGRES_USER: postgresComponent.superuser,
      POSTGRES_PASSWORD: await ctx.secret('postgresPassword'),
      // Created by the image on a new volume (afterReady creates it when missing, too).
      POSTGRES_DB: postgresComponent.database,
    }),
    volume: '/var/lib/postgresql/data',
    // Fast shutdown, as natively (the image's STOPSIGNAL too).
    stopSignal: 'SIGINT',
    stopGraceMs: 30_000,
  },
};
