-- Statements of reasons (DSA Art. 17) for every restriction a decision imposed, one per
-- affected item or account, and their submission to the DSA Transparency Database (Art. 24(5)).
-- A row is written in the transaction that handles the case.decided event and is the outbox
-- for its submission: it stays until the database has accepted it, across restarts.
CREATE TABLE dsa_statements (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  decision_id       bigint NOT NULL REFERENCES decisions(id),
  case_id           bigint,
  subject_kind      text NOT NULL CHECK (subject_kind IN ('content', 'account')),
  subject_id        text NOT NULL,
  action_ids        bigint[] NOT NULL DEFAULT '{}',
  -- The platform's unique identifier of the statement, unique per platform in the database.
  puid              text NOT NULL UNIQUE,
  -- Exactly the JSON object sent (or that would be sent) to the database.
  payload           jsonb NOT NULL,
  -- invalid: failed local validation, never sent; pending_configuration: no database configured;
  -- rejected: the database refused it (errors kept); submitted: accepted (uuid kept).
  status            text NOT NULL CHECK (status IN ('invalid', 'pending_configuration', 'pending', 'retrying', 'submitted', 'rejected')),
  errors            jsonb,
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz,
  lease_owner       text,
  lease_until       timestamptz,
  -- A status code, 'timeout' or a network error code; never a response body.
  last_error        text,
  tdb_uuid          text,
  decided_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL,
  submitted_at      timestamptz,
  UNIQUE (decision_id, subject_kind, subject_id)
);
CREATE INDEX dsa_statements_due ON dsa_statements (next_attempt_at) WHERE status IN ('pending', 'retrying', 'pending_configuration');
CREATE INDEX dsa_statements_by_status ON dsa_statements (status, id);
CREATE INDEX dsa_statements_by_decided ON dsa_statements (decided_at);
