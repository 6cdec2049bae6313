-- The validated work programme whose planned expenses (in planned_expenses) feed each year's
-- financing plan. Only the latest version counts: an older version delivered late is ignored.
-- Kept even when the year's budget does not exist yet: configuring the budget applies it.
CREATE TABLE programmes (
    year          integer     PRIMARY KEY,
    version       integer     NOT NULL CHECK (version >= 1),
    validated_at  timestamptz NOT NULL,
    decided_on    date        NOT NULL,
    deciding_body text        NOT NULL,
    total_cents   bigint      NOT NULL,
    event_id      uuid        NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
