-- Rate limits (crnt_shared.ratelimit): one row per hashed key and window, shared by replicas.
CREATE TABLE IF NOT EXISTS rate_limits (
    key_hash   bytea       PRIMARY KEY,
    hits       integer     NOT NULL CHECK (hits >= 1),
    resets_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_by_reset ON rate_limits (resets_at);
