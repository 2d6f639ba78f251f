-- Controls over banks and their entries (docs/banks.md).

-- An entry can be switched off without removing it: disabled_until is when it matches again
-- ('infinity': until someone re-enables it), with the reason (a reviewer's false positive,
-- 'flood' for an entry quarantined by the flood guard). Matchers' indexes hold only entries
-- whose disabled_until is null; a disable or enable is a revision of the bank like a removal
-- or an addition. flood_exempt: a reviewer kept the entry after a flood quarantine.
ALTER TABLE bank_entries
  ADD COLUMN disabled_until timestamptz,
  ADD COLUMN disabled_reason text,
  ADD COLUMN flood_exempt boolean NOT NULL DEFAULT false;
-- The sweep that re-enables entries whose time ran out finds them here.
CREATE INDEX bank_entries_disabled ON bank_entries (disabled_until) WHERE disabled_until IS NOT NULL;

-- kind 'allow': the bank's matches suppress the same content's matches in the other banks.
-- enabled_ratio: the share of lookups (by a deterministic coin per request seed) the bank counts in.
-- flood_limit: distinct uploads an entry may match in an hour before quarantine (null: the server's default).
ALTER TABLE banks
  ADD COLUMN kind text NOT NULL DEFAULT 'block' CHECK (kind IN ('block', 'allow')),
  ADD COLUMN enabled_ratio double precision NOT NULL DEFAULT 1 CHECK (enabled_ratio >= 0 AND enabled_ratio <= 1),
  ADD COLUMN flood_limit integer CHECK (flood_limit IS NULL OR flood_limit >= 1);

-- Which uploads each entry matched in each hour, so that a repeat of one upload counts once,
-- and the count per entry and hour, raised by an upsert that whichever process crosses the
-- limit sees exactly once. Rows of past hours are purged.
CREATE TABLE bank_entry_hourly_uploads (
  entry_id   bigint NOT NULL,
  hour       timestamptz NOT NULL,
  content_id text NOT NULL,
  PRIMARY KEY (entry_id, hour, content_id)
);
CREATE TABLE bank_entry_hourly_counts (
  entry_id bigint NOT NULL,
  hour     timestamptz NOT NULL,
  uploads  integer NOT NULL,
  PRIMARY KEY (entry_id, hour)
);
CREATE INDEX bank_entry_hourly_uploads_by_hour ON bank_entry_hourly_uploads (hour);
CREATE INDEX bank_entry_hourly_counts_by_hour ON bank_entry_hourly_counts (hour);

-- What allow banks suppressed for a piece of content: the matches, each with the allow entry.
ALTER TABLE content ADD COLUMN suppressed jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Cases about a bank entry (a flood quarantine pending review).
ALTER TABLE cases DROP CONSTRAINT cases_subject_kind_check;
ALTER TABLE cases ADD CONSTRAINT cases_subject_kind_check CHECK (subject_kind IN ('content', 'account', 'network', 'appeal', 'bank_entry'));
