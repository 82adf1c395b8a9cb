-- Idempotency keys of POST /api/parcel: written in the same transaction as the parcel,
-- so a retried request returns the first response and never creates a second parcel.
CREATE TABLE idempotency_key (
    key           varchar(255) PRIMARY KEY,
    request_hash  char(64)     NOT NULL,
    status_code   integer      NOT NULL,
    response      jsonb        NOT NULL,
    parcel_id     uuid         REFERENCES parcel (id) ON DELETE CASCADE,
    created_at    timestamptz  NOT NULL DEFAULT now()
);
