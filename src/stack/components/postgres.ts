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
