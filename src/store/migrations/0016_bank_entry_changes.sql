-- What each revision of a bank changed, so that a matcher holding the bank's index at
-- revision r applies revisions r+1.. instead of reloading the whole bank. One row per
-- revision, written in the transaction that bumps banks.revision: the bank row's lock orders
-- those transactions, so whoever sees revision r committed also sees every row up to r.
-- A revision with no row here (made before this table existed) makes the matcher reload.
CREATE TABLE bank_entry_changes (
  bank_id     integer NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
  revision    bigint NOT NULL,
  -- Entries added one by one (an API add, a reviewer's decision), by id.
  added_ids   bigint[] NOT NULL DEFAULT '{}',
  -- Entries added by an import: those of import_id, whose ids lie in [first_id, last_id],
  -- so a reader walks the primary key instead of a list of a million ids.
  import_id   bigint,
  first_id    bigint,
  last_id     bigint,
  removed_ids bigint[] NOT NULL DEFAULT '{}',
  -- Entries this revision added and removed: how far behind a reader missing it is.
  entries     integer NOT NULL DEFAULT 0,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bank_id, revision)
);
