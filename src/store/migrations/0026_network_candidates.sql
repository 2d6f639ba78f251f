-- Seedless discovery (src/graph/seedless/): networks no one has confirmed, found from what
-- accounts show (coded terms, seller-buyer structure, bursts of new accounts, shared links,
-- hash matches). They are kept as candidates with their evidence for a reviewer; nothing
-- here labels an account.
CREATE TABLE discovery_runs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  parameters  jsonb NOT NULL,
  stats       jsonb NOT NULL
);

CREATE TABLE network_candidates (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id       bigint NOT NULL REFERENCES discovery_runs(id) ON DELETE CASCADE,
  -- candidate: not reviewed; suspected: a reviewer marked its members suspected (seeds for
  -- detection), never confirmed; dismissed: a reviewer found nothing.
  status       text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'suspected', 'dismissed')),
  score        double precision NOT NULL,
  member_count integer NOT NULL,
  summary      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX network_candidates_by_run ON network_candidates (run_id, score DESC);

CREATE TABLE network_candidate_members (
  candidate_id bigint NOT NULL REFERENCES network_candidates(id) ON DELETE CASCADE,
  account_id   integer NOT NULL REFERENCES accounts(id),
  role         text NOT NULL CHECK (role IN ('seller', 'buyer', 'member')),
  score        double precision NOT NULL,
  evidence     jsonb NOT NULL,
  PRIMARY KEY (candidate_id, account_id)
);
CREATE INDEX network_candidate_members_by_account ON network_candidate_members (account_id);

ALTER TABLE cases DROP CONSTRAINT cases_subject_kind_check;
ALTER TABLE cases ADD CONSTRAINT cases_subject_kind_check CHECK (subject_kind IN ('content', 'account', 'network', 'appeal', 'bank_entry', 'network_candidate'));
