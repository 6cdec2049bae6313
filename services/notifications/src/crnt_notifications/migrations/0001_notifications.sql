-- The recipients read model, built from the registry's events only.
CREATE TABLE epcis (
    siren       text        PRIMARY KEY,
    name        text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE centres (
    id           uuid        PRIMARY KEY,
    status       text        NOT NULL,
    nom          text        NOT NULL,
    commune      text        NOT NULL,
    code_postal  text        NOT NULL,
    epci_siren   text        NOT NULL,
    epci_name    text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX centres_by_status ON centres (status);

CREATE TABLE animators (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    email       text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX animators_by_centre ON animators (centre_id);

-- Opt-outs, by address: the categories a person chose not to receive.
CREATE TABLE preferences (
    email       text        PRIMARY KEY,
    opted_out   text[]      NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Coalesced notices (new members, a centre's share): the events of one window, turned into
-- deliveries when the window closes. At most one open notice per (kind, key).
CREATE TABLE notices (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL,
    key         text        NOT NULL,
    open_until  timestamptz NOT NULL,
    sealed_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notices_one_open ON notices (kind, key) WHERE sealed_at IS NULL;
CREATE INDEX notices_due ON notices (open_until) WHERE sealed_at IS NULL;

CREATE TABLE notice_items (
    kind        text        NOT NULL,
    event_id    uuid        NOT NULL,
    notice_id   uuid        NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    position    bigserial,
    data        jsonb       NOT NULL,
    PRIMARY KEY (kind, event_id)
);
CREATE INDEX notice_items_by_notice ON notice_items (notice_id, position);

-- The amount of a centre's share in the last email about it, for "the change since".
CREATE TABLE share_announcements (
    centre_id     uuid        NOT NULL,
    year          integer     NOT NULL,
    amount_cents  bigint      NOT NULL,
    version       integer     NOT NULL,
    announced_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (centre_id, year)
);

-- One email to one person. A redelivered event never makes a second one: (event, recipient,
-- kind) is unique; a coalesced delivery is keyed by the first event of its notice and lists
-- them all in `event_ids`.
CREATE TABLE deliveries (
    id               uuid        PRIMARY KEY,
    event_id         uuid        NOT NULL,
    recipient        text        NOT NULL,
    kind             text        NOT NULL,
    category         text        NOT NULL,
    event_ids        uuid[]      NOT NULL,
    centre_id        uuid,
    subject          text        NOT NULL,
    body_text        text        NOT NULL,
    body_html        text        NOT NULL,
    unsubscribe_url  text,
    status           text        NOT NULL
                     CHECK (status IN ('pending', 'sent', 'retrying', 'failed', 'suppressed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_error       text,
    message_id       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    CONSTRAINT deliveries_once UNIQUE (event_id, recipient, kind)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_recipient ON deliveries (recipient, created_at);
CREATE INDEX deliveries_by_event ON deliveries USING gin (event_ids);
CREATE INDEX deliveries_by_created ON deliveries (created_at, id);
