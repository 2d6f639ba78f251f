-- The outbox is read in an order that no later commit can fill in behind a reader: by the
-- writing transaction's id, then by sequence, and only below the oldest transaction still
-- running (pg_snapshot_xmin). Before, every append took one global lock held to commit so
-- that sequence order was commit order, and each consumer held it across a batch of work.
-- Rows already here were all written by earlier transactions; they get this migration's id
-- and keep their sequence order, and consumers resume at the same place.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_commit_order ON events (tx_id, seq);
CREATE INDEX events_by_type_commit_order ON events (type, tx_id, seq);
DROP INDEX events_by_type;
ALTER TABLE consumer_offsets ADD COLUMN tx_id xid8 NOT NULL DEFAULT '0';
UPDATE consumer_offsets SET tx_id = pg_current_xact_id();
