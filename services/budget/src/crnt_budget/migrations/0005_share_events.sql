-- Issue 15: a version's centre.share.changed events are built by the database (see
-- crnt_budget.repository.versions), thousands in one statement. An amount in a contract is a
-- decimal string of euros with exactly two decimals: crnt_shared.money.amount_from_cents, the
-- same in SQL (123456 -> '1234.56', -5 -> '-0.05'), inlined by the planner.

CREATE FUNCTION amount_from_cents(cents bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN cents < 0 THEN '-' ELSE '' END
        || (abs(cents) / 100)::text || '.' || lpad((abs(cents) % 100)::text, 2, '0');
