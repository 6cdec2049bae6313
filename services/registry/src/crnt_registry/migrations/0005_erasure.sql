-- RGPD erasure: an erased animator's row stays (the centre's history keeps its count) with a
-- pseudonym instead of the name and the address.
ALTER TABLE animators ADD COLUMN erased_at timestamptz;
