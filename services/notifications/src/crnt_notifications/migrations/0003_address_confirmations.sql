-- The addresses that followed their confirmation link: one row per application and address, so
-- that a second click (or a link scanner's) publishes nothing more.
CREATE TABLE address_confirmations (
    application_id  uuid        NOT NULL,
    email           text        NOT NULL,
    confirmed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, email)
);
