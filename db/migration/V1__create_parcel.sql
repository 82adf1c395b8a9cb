-- Parcels tracked by the tracking server. `version` starts at 1 and grows by one per
-- effective update; it is the ETag and the ordering key of the projections downstream.
CREATE TABLE parcel (
    id          uuid        PRIMARY KEY,
    contents    text        NOT NULL CHECK (char_length(contents) BETWEEN 1 AND 10000),
    status      varchar(20) NOT NULL DEFAULT 'registered'
                CHECK (status IN ('registered', 'in_transit', 'delivered', 'returned')),
    version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Newest-first pages with a stable tie-breaker.
CREATE INDEX parcel_created_at_idx ON parcel (created_at DESC, id DESC);
