-- CyberTipline reports to NCMEC: one row per report, delivered like an outbox (claimed
-- under a lease with FOR UPDATE SKIP LOCKED, retried with backoff, never dropped).
CREATE TABLE ncmec_reports (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id           bigint NOT NULL REFERENCES cases(id),
  decision_id       bigint NOT NULL,
  status            text NOT NULL CHECK (status IN ('draft', 'invalid', 'queued', 'submitting', 'submitted', 'failed', 'retracted')),
  requested_by      text NOT NULL,
  -- The <report> document as built (and, on every attempt, as sent: see ncmec_documents).
  report_xml        text NOT NULL,
  -- The files the report describes (ids, names, hashes, viewed flag, upload time); no bytes.
  files             jsonb NOT NULL,
  -- Why the built document failed validation; such a report is never sent.
  validation_errors jsonb NOT NULL DEFAULT '[]',
  -- NCMEC's id of the finished report.
  ncmec_report_id   text,
  -- A report opened at NCMEC and neither finished nor retracted yet (an attempt in flight or cut off).
  open_report_id    text,
  -- NCMEC's file ids of the last attempt, by content id.
  file_ids          jsonb NOT NULL DEFAULT '{}',
  -- Reports opened and retracted by failed attempts.
  retracted_ids     jsonb NOT NULL DEFAULT '[]',
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz,
  lease_owner       text,
  lease_until       timestamptz,
  -- Step, HTTP status and NCMEC response code of the last failure; never a response body.
  last_error        text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  submitted_at      timestamptz
);
-- One live report per case: an invalid one may be followed by a corrected one.
CREATE UNIQUE INDEX ncmec_reports_one_per_case ON ncmec_reports (case_id) WHERE status <> 'invalid';
CREATE INDEX ncmec_reports_due ON ncmec_reports (next_attempt_at) WHERE status IN ('queued', 'failed', 'retracted', 'submitting');

-- Every document sent to NCMEC, exactly as sent: the submitted content is kept (18 U.S.C. 2258A(h)).
CREATE TABLE ncmec_documents (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  report_id       bigint NOT NULL REFERENCES ncmec_reports(id),
  attempt         integer NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('report', 'file_details')),
  ncmec_report_id text,
  ncmec_file_id   text,
  content_id      text,
  document        text NOT NULL,
  sent_at         timestamptz NOT NULL
);
CREATE INDEX ncmec_documents_by_report ON ncmec_documents (report_id, id);
CREATE TRIGGER ncmec_documents_append_only BEFORE UPDATE OR DELETE ON ncmec_documents FOR EACH ROW EXECUTE FUNCTION refuse_change();
