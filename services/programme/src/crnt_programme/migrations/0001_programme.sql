-- The programme service: membership read model, programmes, actions and their history,
-- validated versions (immutable).

CREATE TABLE centres (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    status text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE programmes (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'validated', 'amending')),
    version integer NOT NULL DEFAULT 0 CHECK (version >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE programme_history (
    id bigserial PRIMARY KEY,
    year integer NOT NULL REFERENCES programmes (year),
    previous_status text,
    status text NOT NULL,
    by text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX programme_history_year ON programme_history (year, id);

CREATE TABLE actions (
    id uuid PRIMARY KEY,
    year integer NOT NULL REFERENCES programmes (year),
    axis text NOT NULL
        CHECK (axis IN ('communication', 'ateliers', 'evenements', 'formation', 'materiel_partage')),
    title text NOT NULL,
    description text NOT NULL,
    lead_centre_id uuid,
    participant_ids uuid[] NOT NULL DEFAULT '{}',
    needs_lead boolean NOT NULL DEFAULT false,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    estimated_cost_cents bigint NOT NULL CHECK (estimated_cost_cents >= 0),
    actual_cost_cents bigint CHECK (actual_cost_cents >= 0),
    status text NOT NULL DEFAULT 'proposed'
        CHECK (status IN ('proposed', 'planned', 'in_progress', 'done', 'cancelled')),
    progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    progress_note text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    CHECK (needs_lead = (lead_centre_id IS NULL))
);
CREATE INDEX actions_year ON actions (year, created_at);
CREATE INDEX actions_lead ON actions (lead_centre_id);
CREATE INDEX actions_participants ON actions USING gin (participant_ids);

-- What happened to an action: proposed, updated, status, progress, centre_left.
CREATE TABLE action_history (
    id bigserial PRIMARY KEY,
    action_id uuid NOT NULL REFERENCES actions (id),
    kind text NOT NULL,
    by text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX action_history_action ON action_history (action_id, id);

-- Each validation: an immutable snapshot of the programme as the deciding body adopted it.
CREATE TABLE programme_versions (
    year integer NOT NULL REFERENCES programmes (year),
    version integer NOT NULL CHECK (version >= 1),
    validated_at timestamptz NOT NULL,
    decided_on date NOT NULL,
    deciding_body text NOT NULL,
    decision_reference text,
    snapshot jsonb NOT NULL,
    PRIMARY KEY (year, version)
);

CREATE FUNCTION programme_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a validated programme version is immutable: validate an amendment instead';
END;
$$;

CREATE TRIGGER programme_versions_immutable
    BEFORE UPDATE OR DELETE ON programme_versions
    FOR EACH ROW EXECUTE FUNCTION programme_versions_immutable();
