-- What a service keeps of the identity service's announcements (crnt.identity.events), in its
-- own database so that every replica sees what the one replica that received an event recorded.
CREATE TABLE identity_keys (
    kid         text        PRIMARY KEY,
    jwk         jsonb       NOT NULL,
    signs_from  timestamptz NOT NULL,
    retired_at  timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A person's tokens issued until revoked_before are refused (removed, or no longer animating).
CREATE TABLE access_revocations (
    person_id      text        PRIMARY KEY,
    revoked_before timestamptz NOT NULL
);
