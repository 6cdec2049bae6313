-- The financing plan of issue 12: dated membership, the validated programme's actions with their
-- nature and actual cost, the EPCIs' voted participations, closed years, versions that wait.

-- Each period a centre was a member: a year shares among the centres that were members in it.
CREATE TABLE memberships (
    centre_id uuid        NOT NULL,
    since     timestamptz NOT NULL,
    until     timestamptz,            -- NULL: still a member
    PRIMARY KEY (centre_id, since),
    CHECK (until IS NULL OR until >= since)
);
CREATE UNIQUE INDEX memberships_one_open ON memberships (centre_id) WHERE until IS NULL;
INSERT INTO memberships (centre_id, since) SELECT centre_id, as_of FROM centres WHERE is_member;

-- The actions of each year's validated programme: the plan's expenses, estimated and actual.
CREATE TABLE programme_actions (
    year            integer NOT NULL,
    action_id       uuid    NOT NULL,
    axis            text    NOT NULL,
    nature          text    NOT NULL CHECK (nature IN ('fonctionnement', 'investissement')),
    title           text    NOT NULL,
    estimated_cents bigint  NOT NULL CHECK (estimated_cents >= 0),
    actual_cents    bigint  CHECK (actual_cents >= 0),
    actual_as_of    timestamptz,
    PRIMARY KEY (year, action_id)
);
CREATE INDEX programme_actions_by_id ON programme_actions (action_id);
INSERT INTO programme_actions (year, action_id, axis, nature, title, estimated_cents)
    SELECT year, md5(year::text || axis)::uuid, axis,
           CASE axis WHEN 'materiel_partage' THEN 'investissement' ELSE 'fonctionnement' END,
           axis, amount_cents
      FROM planned_expenses WHERE amount_cents > 0;
DROP TABLE planned_expenses;

-- What each EPCI's council voted for a year.
CREATE TABLE participations (
    year                integer     NOT NULL,
    siren               text        NOT NULL,
    amount_cents        bigint      NOT NULL CHECK (amount_cents >= 0),
    deliberation_number text        NOT NULL,
    deliberation_date   date        NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (year, siren)
);

ALTER TABLE budgets ADD COLUMN closed_at timestamptz, ADD COLUMN closed_by text,
    ADD COLUMN waiting jsonb;  -- what a version waits for (missing inputs), NULL when none
ALTER TABLE pending_causes ADD COLUMN held boolean NOT NULL DEFAULT false;
ALTER TABLE epci_shares ADD COLUMN voted_cents bigint, ADD COLUMN deliberation_number text,
    ADD COLUMN deliberation_date date, ADD COLUMN exceeds_voted boolean NOT NULL DEFAULT false;
