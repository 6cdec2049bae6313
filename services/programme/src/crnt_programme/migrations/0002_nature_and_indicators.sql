-- Each action's nature in the financing plan (an operating cost or an investment; shared
-- equipment is an investment by default) and the indicators its progress reports give.
ALTER TABLE actions
    ADD COLUMN nature text NOT NULL DEFAULT 'fonctionnement'
        CHECK (nature IN ('fonctionnement', 'investissement')),
    ADD COLUMN sessions integer NOT NULL DEFAULT 0 CHECK (sessions >= 0),
    ADD COLUMN people_reached integer NOT NULL DEFAULT 0 CHECK (people_reached >= 0),
    ADD COLUMN hours_tenths integer NOT NULL DEFAULT 0 CHECK (hours_tenths >= 0);
UPDATE actions SET nature = 'investissement' WHERE axis = 'materiel_partage';
