-- EPCIs (intercommunalities) and the communes they list.
CREATE TABLE epcis (
    siren       text        PRIMARY KEY CHECK (siren ~ '^\d{9}$'),
    name        text        NOT NULL,
    population  integer     NOT NULL CHECK (population >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A commune belongs to one EPCI at most.
CREATE TABLE epci_communes (
    code_insee  text PRIMARY KEY,
    epci_siren  text NOT NULL REFERENCES epcis (siren) ON DELETE CASCADE
);
CREATE INDEX epci_communes_by_epci ON epci_communes (epci_siren);

-- Centres: the standard's fields in columns where the registry reasons on them, the others
-- in `details`. `status` is the membership state.
CREATE TABLE centres (
    id            uuid        PRIMARY KEY,
    status        text        NOT NULL
                  CHECK (status IN ('pending', 'member', 'rejected', 'suspended', 'withdrawn')),
    nom           text        NOT NULL,
    pivot         text        NOT NULL,
    adresse       text        NOT NULL,
    code_postal   text        NOT NULL,
    commune       text        NOT NULL,
    code_insee    text        NOT NULL,
    epci_siren    text        NOT NULL REFERENCES epcis (siren),
    typologie     text[]      NOT NULL DEFAULT '{}',
    workstations  integer     NOT NULL CHECK (workstations >= 0),
    horaires      text,
    services      text[]      NOT NULL DEFAULT '{}',
    date_maj      date        NOT NULL,
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX centres_by_status ON centres (status, epci_siren);
-- The last guard against two live records of one place (the placeholder is no key).
CREATE UNIQUE INDEX centres_live_pivot ON centres (pivot)
    WHERE status IN ('pending', 'member', 'suspended') AND pivot <> '00000000000000';

-- Applications: a centre's request to join, and the agency's decision.
CREATE TABLE applications (
    id            uuid        PRIMARY KEY,
    centre_id     uuid        NOT NULL UNIQUE REFERENCES centres (id),
    status        text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    channel       text        NOT NULL CHECK (channel IN ('form', 'import')),
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    text,
    reason        text
);
CREATE INDEX applications_by_status ON applications (status, submitted_at);

-- Every membership transition: who, when, why.
CREATE TABLE membership_history (
    id               bigserial   PRIMARY KEY,
    centre_id        uuid        NOT NULL REFERENCES centres (id),
    action           text        NOT NULL,
    previous_status  text,
    status           text        NOT NULL,
    reason           text,
    actor            text        NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX membership_history_by_centre ON membership_history (centre_id, id);

CREATE TABLE animators (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL REFERENCES centres (id),
    name        text        NOT NULL,
    email       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- An email is unique within a centre.
CREATE UNIQUE INDEX animators_email_per_centre ON animators (centre_id, lower(email));
