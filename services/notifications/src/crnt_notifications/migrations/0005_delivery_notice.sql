-- A coalesced delivery names its notice: the notice's items are the events it tells about, so
-- that a summary of thousands of arrivals keeps one list of them, not one per recipient.
ALTER TABLE deliveries ADD COLUMN notice_id uuid REFERENCES notices (id) ON DELETE SET NULL;
CREATE INDEX deliveries_by_notice ON deliveries (notice_id) WHERE notice_id IS NOT NULL;
CREATE INDEX notice_items_by_event ON notice_items (event_id);
