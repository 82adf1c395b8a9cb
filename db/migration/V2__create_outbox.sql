-- The transactional outbox, in the shape Debezium's Outbox Event Router reads:
-- id = event id, aggregatetype/aggregateid route and key the record, payload is the event.
-- occurred_at is a timestamp WITHOUT time zone holding UTC (the router wants a plain
-- timestamp); millisecond precision keeps it an epoch-millis number downstream.
CREATE TABLE outbox (
    id             uuid         PRIMARY KEY,
    aggregatetype  varchar(255) NOT NULL,
    aggregateid    varchar(255) NOT NULL,
    type           varchar(255) NOT NULL,
    payload        jsonb        NOT NULL,
    occurred_at    timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- Pruning (`db prune-outbox --older-than`) scans by age.
CREATE INDEX outbox_occurred_at_idx ON outbox (occurred_at);
