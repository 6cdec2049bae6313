-- People: agency staff and COPIL members by their explicit roles; animators by the registry's
-- read model below. The id is derived from the address (uuid5), so that seeding is idempotent.
CREATE TABLE people (
    id           uuid        PRIMARY KEY,
    email        text        NOT NULL UNIQUE CHECK (email = lower(email)),
    display_name text        NOT NULL,
    roles        text[]      NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    removed_at   timestamptz
);

-- The registry's read model: which centres are members, and who animates them.
CREATE TABLE centres (
    id     uuid PRIMARY KEY,
    name   text NOT NULL,
    status text NOT NULL
);

CREATE TABLE animators (
    centre_id   uuid NOT NULL REFERENCES centres (id),
    animator_id uuid NOT NULL,
    email       text NOT NULL CHECK (email = lower(email)),
    name        text NOT NULL,
    PRIMARY KEY (centre_id, animator_id)
);
CREATE INDEX animators_by_email ON animators (email);

-- Sign-in links: only the SHA-256 of the secret is kept; single use, short-lived.
CREATE TABLE sign_in_links (
    secret_hash bytea       PRIMARY KEY,
    person_id   uuid        NOT NULL REFERENCES people (id),
    return_to   text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX sign_in_links_by_expiry ON sign_in_links (expires_at);

-- Sessions: only the SHA-256 of the refresh token is kept.
CREATE TABLE sessions (
    id           uuid        PRIMARY KEY,
    person_id    uuid        NOT NULL REFERENCES people (id),
    refresh_hash bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    end_reason   text
);
CREATE INDEX sessions_open_by_person ON sessions (person_id) WHERE ended_at IS NULL;

-- Signing keys: the private half encrypted (PKCS #8 with the key passphrase), never logged.
CREATE TABLE signing_keys (
    kid           text        PRIMARY KEY,
    private_pem   bytea       NOT NULL,
    public_jwk    jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    signs_from    timestamptz NOT NULL,
    retired_at    timestamptz
);
