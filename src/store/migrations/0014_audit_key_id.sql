-- The audit key that chained each entry (an HMAC-SHA256 in `hash`); NULL for entries chained
-- with a plain SHA-256, as every entry was before audit keys existed (docs/audit-log.md).
ALTER TABLE audit_log ADD COLUMN key_id text;
