-- Statements of reasons whose decision an appeal reversed (DSA Art. 20). The Transparency
-- Database offers no way to withdraw, update or annotate a statement it has accepted, so the
-- reversal is kept here: who reversed it, when and through which appeal. A statement not yet
-- accepted is withdrawn and never sent; an accepted one stays submitted and carries the reversal.
ALTER TABLE dsa_statements DROP CONSTRAINT IF EXISTS dsa_statements_status_check;
ALTER TABLE dsa_statements ADD CONSTRAINT dsa_statements_status_check
  CHECK (status IN ('invalid', 'pending_configuration', 'pending', 'retrying', 'submitted', 'rejected', 'withdrawn'));
ALTER TABLE dsa_statements ADD COLUMN reversed_at timestamptz;
ALTER TABLE dsa_statements ADD COLUMN reversed_by text;
ALTER TABLE dsa_statements ADD COLUMN reversed_by_appeal_id bigint REFERENCES appeals(id);
CREATE INDEX dsa_statements_by_decision ON dsa_statements (decision_id);

-- Appeals reversed before this migration: their statements are marked the same way.
UPDATE dsa_statements s
SET reversed_at = a.resolved_at, reversed_by = a.resolved_by, reversed_by_appeal_id = a.id,
    status = CASE WHEN s.status = 'submitted' THEN 'submitted' ELSE 'withdrawn' END,
    next_attempt_at = CASE WHEN s.status = 'submitted' THEN s.next_attempt_at ELSE NULL END
FROM appeals a
WHERE a.decision_id = s.decision_id AND a.status = 'reversed' AND s.reversed_at IS NULL;
