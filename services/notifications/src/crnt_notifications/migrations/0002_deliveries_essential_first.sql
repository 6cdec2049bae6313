-- The sender takes essential mail first (a centre's own membership, the agency's): an index in
-- that order, so that picking the next delivery never sorts thousands of pending rows.
CREATE INDEX deliveries_due_essential_first
    ON deliveries ((category NOT IN ('membership', 'agency')), next_attempt_at)
    WHERE status IN ('pending', 'retrying');
