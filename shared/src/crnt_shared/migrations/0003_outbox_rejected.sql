-- A row Kafka refuses for good (larger than the broker accepts, say) is set aside with the
-- reason, instead of being retried forever in front of the rows behind it.
ALTER TABLE outbox ADD COLUMN rejected_at timestamptz, ADD COLUMN rejection text;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL AND rejected_at IS NULL;
