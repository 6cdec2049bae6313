-- Issue 15: what a version stores grows with what changed, not with the number of members.
-- centre_shares held every centre's row in every version (50,000 members and 1,000 versions:
-- 50 million rows). A version now stores
--   * share_facts: a centre's facts (name, EPCI, workstations, membership) in the versions where
--     they change only, with its amount in the version before; a version's facts of a centre
--     are its latest row at or before that version;
--   * share_classes: its dotations, one row per class of members with the same workstations (a
--     member's quota depends on its workstations only, see crnt_budget.domain): every member of
--     the class gets base_cents, one cent more when its id is at or before extra_through.
-- centre_shares_of(year, version) gives a version's rows exactly as centre_shares held them.

CREATE TABLE share_facts (
    year           integer NOT NULL,
    version        integer NOT NULL,
    centre_id      uuid    NOT NULL,
    name           text    NOT NULL,
    epci_siren     text    NOT NULL,
    workstations   integer NOT NULL,
    is_member      boolean NOT NULL,  -- false: left in this version
    previous_cents bigint  NOT NULL,  -- the centre's amount in the version before
    PRIMARY KEY (year, centre_id, version),  -- a centre's latest row at or before a version
    FOREIGN KEY (year, version) REFERENCES versions (year, version)
);

CREATE TABLE share_classes (
    year          integer NOT NULL,
    version       integer NOT NULL,
    workstations  integer NOT NULL,
    base_cents    bigint  NOT NULL,
    extra_through uuid,             -- NULL: no member of the class gets the extra cent
    PRIMARY KEY (year, version, workstations),
    FOREIGN KEY (year, version) REFERENCES versions (year, version)
);

CREATE TRIGGER share_facts_immutable BEFORE UPDATE OR DELETE ON share_facts
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_version();
CREATE TRIGGER share_classes_immutable BEFORE UPDATE OR DELETE ON share_classes
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_version();

-- A version's rows: its members, and those that left in it with a share before (amount 0).
-- A member whose facts did not change in the version had the same ones in the version before:
-- its previous amount is that version's dotation of its class.
CREATE FUNCTION centre_shares_of(share_year integer, share_version integer)
RETURNS TABLE (centre_id uuid, name text, epci_siren text, workstations integer,
               is_member boolean, amount_cents bigint, previous_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT f.centre_id, f.name, f.epci_siren, f.workstations, f.is_member,
           CASE WHEN f.is_member
                THEN c.base_cents + coalesce(f.centre_id <= c.extra_through, false)::int
                ELSE 0 END,
           CASE WHEN f.version = share_version THEN f.previous_cents
                ELSE p.base_cents + coalesce(f.centre_id <= p.extra_through, false)::int END
      FROM (SELECT DISTINCT ON (s.centre_id) s.*
              FROM share_facts s
             WHERE s.year = share_year AND s.version <= share_version
             ORDER BY s.centre_id, s.version DESC) f
      LEFT JOIN share_classes c
        ON (c.year, c.version, c.workstations) = (share_year, share_version, f.workstations)
      LEFT JOIN share_classes p
        ON (p.year, p.version, p.workstations) = (share_year, share_version - 1, f.workstations)
     WHERE f.is_member OR (f.version = share_version AND f.previous_cents <> 0)
     ORDER BY f.centre_id
$$;

-- The conversion of the versions written before. The classes: in a class, the members with the
-- larger amount are the first ids (largest remainder, then the smaller id).
INSERT INTO share_classes (year, version, workstations, base_cents, extra_through)
SELECT year, version, workstations, min(amount_cents),
       CASE WHEN max(amount_cents) > min(amount_cents)
            THEN (array_agg(centre_id ORDER BY amount_cents DESC, centre_id DESC))[1] END
  FROM centre_shares
 WHERE is_member
 GROUP BY year, version, workstations;

-- The facts: a row where a centre's row differs from the version before or is new, and one
-- where a member of a version is in no row of the next (it left with a share of 0).
INSERT INTO share_facts (year, version, centre_id, name, epci_siren, workstations, is_member,
                         previous_cents)
SELECT s.year, s.version, s.centre_id, s.name, s.epci_siren, s.workstations, s.is_member,
       s.previous_cents
  FROM centre_shares s
  LEFT JOIN centre_shares b
    ON (b.year, b.version, b.centre_id) = (s.year, s.version - 1, s.centre_id)
 WHERE b.centre_id IS NULL
    OR (b.name, b.epci_siren, b.workstations, b.is_member)
       IS DISTINCT FROM (s.name, s.epci_siren, s.workstations, s.is_member)
UNION ALL
SELECT b.year, b.version + 1, b.centre_id, b.name, b.epci_siren, b.workstations, false, 0
  FROM centre_shares b
  JOIN versions v ON (v.year, v.version) = (b.year, b.version + 1)
 WHERE b.is_member
   AND NOT EXISTS (SELECT 1 FROM centre_shares s
                    WHERE (s.year, s.version, s.centre_id) = (b.year, b.version + 1, b.centre_id));

-- Every version reads back exactly as it was written, or the migration stops here.
DO $$
DECLARE
    wrong bigint;
BEGIN
    WITH kept AS (
        SELECT year, version, centre_id, name, epci_siren, workstations, is_member,
               amount_cents, previous_cents
          FROM centre_shares
    ), read AS (
        SELECT v.year, v.version, r.*
          FROM versions v, LATERAL centre_shares_of(v.year, v.version) r
    )
    SELECT count(*) INTO wrong
      FROM ((TABLE kept EXCEPT ALL TABLE read) UNION ALL (TABLE read EXCEPT ALL TABLE kept)) d;
    IF wrong > 0 THEN
        RAISE EXCEPTION 'centre shares: % rows differ once stored by change', wrong;
    END IF;
END;
$$;

DROP TABLE centre_shares;
