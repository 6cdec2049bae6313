-- Retention: the deliveries whose recipient and content are still kept, by age, so that the
-- retention worker finds the next ones to pseudonymise without walking those it did already.
CREATE INDEX deliveries_kept_by_created ON deliveries (created_at)
    WHERE recipient NOT LIKE '%@erased.invalid';
