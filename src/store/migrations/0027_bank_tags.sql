-- Tags on a bank, not only on its entries: every match from the bank carries them beside its
-- entry's own, so a rule that selects matches by tag (match.tags) acts on a whole list, e.g.
-- the demo's rules on any bank tagged `demo`.
ALTER TABLE banks ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
