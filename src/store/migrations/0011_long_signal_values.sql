-- Bank entries may hold long values: a vPDQ value lists one line per hashed frame (about 90
-- bytes each), so a few minutes of video is tens of kilobytes. PostgreSQL's btree refuses
-- index rows over about 2.7 kB, so the uniqueness of (bank_id, signal_type, value) and the
-- lookup by (signal_type, value) are now kept on md5(value) instead of the value itself.
-- Two different values with the same MD5 would count as one entry (a duplicate); bank
-- values are canonical hashes from trusted lists, where that does not happen by accident.
-- Statements that relied on the old constraint use ON CONFLICT (bank_id, signal_type, md5(value)).
ALTER TABLE bank_entries DROP CONSTRAINT IF EXISTS bank_entries_bank_id_signal_type_value_key;
DROP INDEX IF EXISTS bank_entries_by_signal;
CREATE UNIQUE INDEX bank_entries_unique_value ON bank_entries (bank_id, signal_type, md5(value));
CREATE INDEX bank_entries_by_signal ON bank_entries (signal_type, md5(value));
