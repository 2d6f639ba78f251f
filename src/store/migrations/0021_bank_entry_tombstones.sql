-- Bulwark to Bulwark sharing (src/exchange/publish/): a bank an operator publishes is served to
-- peer platforms as a feed of changes by revision, and a removal must reach them with the value
-- it removed, which bank_entries no longer holds. One row per removed entry, written in the
-- transaction that removes it (bumpRevision). Kept for a while, then pruned: a subscriber whose
-- checkpoint is older than what is kept must read the bank afresh.
CREATE TABLE bank_entry_tombstones (
  bank_id     integer NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
  revision    bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  signal_type text NOT NULL,
  value       text NOT NULL,
  -- The entry came through an exchange (source 'exchange:…'): a feed never passes those on,
  -- neither their additions nor their removals.
  from_exchange boolean NOT NULL DEFAULT false,
  removed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_entry_tombstones_by_revision ON bank_entry_tombstones (bank_id, revision, id);
CREATE INDEX bank_entry_tombstones_by_age ON bank_entry_tombstones (removed_at);

-- Only banks the operator marks as published are served to peers.
ALTER TABLE banks ADD COLUMN published boolean NOT NULL DEFAULT false;
-- The first revision from which the feed can replay every change (its removals need tombstones):
-- removals before this migration left none, and pruning tombstones moves it forward.
ALTER TABLE banks ADD COLUMN feed_history_from bigint NOT NULL DEFAULT 0;
UPDATE banks SET feed_history_from = revision + 1;

-- A key given to a peer platform reads published feeds and sends feedback, and nothing else:
-- scope 'feed' (the default 'full' keeps every existing key as it was). feed_banks, when set,
-- names the only banks that key may read; null allows every published bank.
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'feed'));
ALTER TABLE api_keys ADD COLUMN feed_banks text[];

-- A peer's verdict on a published entry (seen, true positive, false positive), for the publisher
-- to see. The latest verdict of each peer key per entry value is kept; the peer is named by its
-- API key, never by a reviewer or content of its own.
CREATE TABLE bank_feed_feedback (
  bank_id      integer NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
  signal_type  text NOT NULL,
  value        text NOT NULL,
  api_key_id   integer NOT NULL REFERENCES api_keys(id),
  verdict      text NOT NULL CHECK (verdict IN ('seen', 'true_positive', 'false_positive')),
  reason       text,
  feedback_key text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
-- md5 of the value, as bank_entries does: a vPDQ value is too long for a btree key.
CREATE UNIQUE INDEX bank_feed_feedback_per_peer ON bank_feed_feedback (bank_id, api_key_id, signal_type, md5(value));
