-- What the budget knows of the registry (read models built from its events).
CREATE TABLE centres (
    centre_id    uuid        PRIMARY KEY,
    name         text        NOT NULL,
    epci_siren   text        NOT NULL,
    epci_name    text        NOT NULL,
    workstations integer     NOT NULL,
    status       text        NOT NULL,
    is_member    boolean     NOT NULL,
    as_of        timestamptz NOT NULL  -- time of the last event applied
);
CREATE INDEX centres_members ON centres (centre_id) WHERE is_member;

CREATE TABLE epcis (
    siren      text        PRIMARY KEY,
    name       text        NOT NULL,
    population bigint,                -- NULL until the registry's EPCI event arrives
    registered boolean     NOT NULL,  -- known from an EPCI event, not only from a centre's
    as_of      timestamptz NOT NULL
);

-- The budget of each year, as the agency last configured it.
CREATE TABLE budgets (
    year           integer     PRIMARY KEY,
    configuration  jsonb       NOT NULL,
    revision       integer     NOT NULL,
    configured_at  timestamptz NOT NULL,
    latest_version integer     NOT NULL DEFAULT 0
);

-- Planned expenses by axis of a year's validated work programme.
CREATE TABLE planned_expenses (
    year         integer NOT NULL,
    axis         text    NOT NULL,
    amount_cents bigint  NOT NULL CHECK (amount_cents >= 0),
    PRIMARY KEY (year, axis)
);

-- Events handled whose effect on a year's shares is not computed yet (the year is "dirty").
CREATE TABLE pending_causes (
    year        integer     NOT NULL REFERENCES budgets (year),
    event_id    uuid        NOT NULL,
    event_type  text        NOT NULL,
    subject     text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (year, event_id)
);

-- Versions: immutable, one per recalculation.
CREATE TABLE versions (
    year                    integer     NOT NULL REFERENCES budgets (year),
    version                 integer     NOT NULL,
    computed_at             timestamptz NOT NULL,
    cause                   jsonb       NOT NULL,
    configuration           jsonb       NOT NULL,
    financing               jsonb       NOT NULL,
    envelope_cents          bigint      NOT NULL,
    allocated_cents         bigint      NOT NULL,
    epci_contribution_cents bigint      NOT NULL,
    member_count            integer     NOT NULL,
    changed_centres         integer     NOT NULL,
    PRIMARY KEY (year, version)
);

CREATE TABLE centre_shares (
    year           integer NOT NULL,
    version        integer NOT NULL,
    centre_id      uuid    NOT NULL,
    name           text    NOT NULL,
    epci_siren     text    NOT NULL,
    workstations   integer NOT NULL,
    is_member      boolean NOT NULL,  -- false: left in this version, amount 0
    amount_cents   bigint  NOT NULL,
    previous_cents bigint  NOT NULL,
    PRIMARY KEY (year, version, centre_id),
    FOREIGN KEY (year, version) REFERENCES versions (year, version)
);

CREATE TABLE epci_shares (
    year           integer NOT NULL,
    version        integer NOT NULL,
    siren          text    NOT NULL,
    name           text    NOT NULL,
    population     bigint,
    member_centres integer NOT NULL,
    amount_cents   bigint  NOT NULL,
    previous_cents bigint  NOT NULL,
    PRIMARY KEY (year, version, siren),
    FOREIGN KEY (year, version) REFERENCES versions (year, version)
);

CREATE FUNCTION refuse_change_of_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'budget versions are immutable: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER versions_immutable BEFORE UPDATE OR DELETE ON versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_version();
CREATE TRIGGER centre_shares_immutable BEFORE UPDATE OR DELETE ON centre_shares
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_version();
CREATE TRIGGER epci_shares_immutable BEFORE UPDATE OR DELETE ON epci_shares
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_version();
