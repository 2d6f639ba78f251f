-- History pruning (src/banks/history-pruning.ts) runs hourly and deletes change-log rows by
-- age: without this index each run reads every revision a bank keeps, which grows with the
-- history window (BULWARK_FEED_HISTORY_DAYS) times the rate of bank changes.
CREATE INDEX IF NOT EXISTS bank_entry_changes_by_age ON bank_entry_changes (changed_at);
