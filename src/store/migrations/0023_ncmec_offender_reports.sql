-- CyberTipline reports per offender: one report gathers every confirmed case of one reported
-- account while it is unsent, and says how complete it is before it goes out.
ALTER TABLE ncmec_reports DROP CONSTRAINT ncmec_reports_status_check;
ALTER TABLE ncmec_reports ADD CONSTRAINT ncmec_reports_status_check
  CHECK (status IN ('draft', 'held', 'invalid', 'queued', 'submitting', 'submitted', 'failed', 'retracted'));
-- The reported account (the platform's id); NULL only for reports made before this migration.
ALTER TABLE ncmec_reports ADD COLUMN account_id text;
-- The earliest decision the report carries: the gathering window and the hold limit count from it.
ALTER TABLE ncmec_reports ADD COLUMN first_decided_at timestamptz;
-- When an unheld report becomes due, and the latest moment any hold may last.
ALTER TABLE ncmec_reports ADD COLUMN gather_until timestamptz;
ALTER TABLE ncmec_reports ADD COLUMN hold_until timestamptz;
-- Completeness 0-100 of the report as built, and what it lacks ([{item, detail}]).
ALTER TABLE ncmec_reports ADD COLUMN completeness smallint;
ALTER TABLE ncmec_reports ADD COLUMN quality jsonb NOT NULL DEFAULT '{}';
-- A lead's confirmation that a report below the quality floor may go out as it is.
ALTER TABLE ncmec_reports ADD COLUMN confirmed_by text;
ALTER TABLE ncmec_reports ADD COLUMN confirmed_at timestamptz;
-- What happened to the report, oldest first: [{at, event, detail}]. Ids and codes only.
ALTER TABLE ncmec_reports ADD COLUMN history jsonb NOT NULL DEFAULT '[]';

-- A network takedown makes one report per member, so a case may have several reports.
DROP INDEX ncmec_reports_one_per_case;
-- One unsent report per account: later decisions supplement it instead of opening another.
CREATE UNIQUE INDEX ncmec_reports_one_pending_per_account ON ncmec_reports (account_id)
  WHERE status IN ('draft', 'held', 'queued', 'invalid') AND account_id IS NOT NULL;
DROP INDEX ncmec_reports_due;
CREATE INDEX ncmec_reports_due ON ncmec_reports (next_attempt_at) WHERE status IN ('held', 'queued', 'failed', 'retracted', 'submitting');
CREATE INDEX ncmec_reports_submitted ON ncmec_reports (submitted_at) WHERE submitted_at IS NOT NULL;

-- The cases (and, for a network case, the member) each report carries.
CREATE TABLE ncmec_report_cases (
  report_id   bigint NOT NULL REFERENCES ncmec_reports(id),
  case_id     bigint NOT NULL REFERENCES cases(id),
  -- The member of a network case this report is about; the reported account otherwise.
  account_id  text NOT NULL DEFAULT '',
  decision_id bigint NOT NULL,
  decided_at  timestamptz NOT NULL,
  added_at    timestamptz NOT NULL,
  PRIMARY KEY (report_id, case_id, account_id)
);
-- A case's material goes into one report per account, once.
CREATE UNIQUE INDEX ncmec_report_cases_once ON ncmec_report_cases (case_id, account_id);

INSERT INTO ncmec_report_cases (report_id, case_id, account_id, decision_id, decided_at, added_at)
  SELECT r.id, r.case_id, '', r.decision_id, coalesce(d.decided_at, r.created_at), r.created_at
  FROM ncmec_reports r LEFT JOIN decisions d ON d.id = r.decision_id
  WHERE r.status <> 'invalid';
UPDATE ncmec_reports r SET first_decided_at = coalesce((SELECT d.decided_at FROM decisions d WHERE d.id = r.decision_id), r.created_at);
