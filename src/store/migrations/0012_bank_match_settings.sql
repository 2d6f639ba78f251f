-- Each bank may set how close a match must be, per signal type, over the types' defaults:
-- {"maxDistance": {"pdq": 20}, "minMatchPercent": {"vpdq": {"query": 90, "compared": 50}}}.
-- A request's own options still win over the bank's.
ALTER TABLE banks ADD COLUMN match_settings jsonb NOT NULL DEFAULT '{}'::jsonb;
