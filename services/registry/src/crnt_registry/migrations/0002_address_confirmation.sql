-- No open relay: an anonymous application's addresses confirm before they hear anything, and an
-- application none of them confirmed expires.

-- When an animator's address was confirmed: at entry for what the agency enters, on following
-- the mailed link for an anonymous application; NULL until then.
ALTER TABLE animators ADD COLUMN confirmed_at timestamptz;
UPDATE animators SET confirmed_at = created_at;

-- not_required (entered by the agency), awaiting (anonymous, no address confirmed yet),
-- confirmed (at least one address confirmed). expires_at: when an awaiting application expires.
ALTER TABLE applications
    ADD COLUMN confirmation text NOT NULL DEFAULT 'not_required'
        CHECK (confirmation IN ('not_required', 'awaiting', 'confirmed')),
    ADD COLUMN expires_at timestamptz;
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('pending', 'approved', 'rejected', 'expired'));
CREATE INDEX applications_awaiting_by_expiry ON applications (expires_at)
    WHERE status = 'pending' AND confirmation = 'awaiting';

ALTER TABLE centres DROP CONSTRAINT centres_status_check;
ALTER TABLE centres ADD CONSTRAINT centres_status_check
    CHECK (status IN ('pending', 'member', 'rejected', 'suspended', 'withdrawn', 'expired'));

-- The last confirmation request mailed to an address (its SHA-256: the row outlives the
-- application), so that another application within the resend window mails it nothing more.
CREATE TABLE confirmation_requests (
    email_hash      bytea       PRIMARY KEY,
    application_id  uuid        NOT NULL,
    requested_at    timestamptz NOT NULL
);
CREATE INDEX confirmation_requests_by_time ON confirmation_requests (requested_at);
