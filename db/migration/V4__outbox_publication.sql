-- Debezium reads the outbox through this publication (publication.autocreate.mode=disabled,
-- so its role needs no ownership). Inserts only: the delete of delete-after-insert and
-- `db prune-outbox` are never decoded, so they never become events.
-- The replication slot is deliberately not a migration: a slot holds WAL on every
-- database it exists on, so it is created by the connector of a running stack.
CREATE PUBLICATION parcel_outbox_pub FOR TABLE outbox WITH (publish = 'insert');

-- Debezium's heartbeat.action.query writes here, so the slot advances while the outbox is idle.
CREATE TABLE debezium_heartbeat (
    id       int         PRIMARY KEY,
    beat_at  timestamptz NOT NULL DEFAULT now()
);
