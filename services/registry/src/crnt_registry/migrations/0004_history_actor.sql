-- Who made each membership change: a person (id, display name) or a service account.
ALTER TABLE membership_history ADD COLUMN actor_ref jsonb;
