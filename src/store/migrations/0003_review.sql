-- Rule files as the operator activated them; the newest row is the live rule set.
CREATE TABLE rule_sets (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file_name    text NOT NULL,
  source       text NOT NULL,
  activated_by text NOT NULL,
  activated_at timestamptz NOT NULL DEFAULT now()
);

-- Review queues, declared in the rule file (plus the built-in escalation queue).
CREATE TABLE review_queues (
  name        text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  -- Only members of this team (and admins) see the queue; null: every reviewer.
  team        text,
  -- Only these roles see the queue (the escalation queue is for leads); null: every role.
  roles       text[],
  sla_minutes integer NOT NULL CHECK (sla_minutes > 0),
  retired     boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reviewers (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  -- scrypt$N$r$p$salt$hash; the password itself is never stored.
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('reviewer', 'lead', 'admin')),
  teams         text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);

CREATE TABLE reviewer_sessions (
  -- Only the SHA-256 of the cookie's token is kept, so a copy of the table opens no session.
  token_sha256 text PRIMARY KEY,
  reviewer_id  integer NOT NULL REFERENCES reviewers(id),
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX reviewer_sessions_by_reviewer ON reviewer_sessions (reviewer_id);

-- How many pieces of media each reviewer revealed per (UTC) day: a wellness measure.
CREATE TABLE reviewer_exposures (
  reviewer_id integer NOT NULL REFERENCES reviewers(id),
  day         date NOT NULL,
  count       integer NOT NULL,
  PRIMARY KEY (reviewer_id, day)
);

-- Reports about content or accounts from users and trusted flaggers.
CREATE TABLE reports (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reporter_kind text NOT NULL CHECK (reporter_kind IN ('user', 'trusted_flagger')),
  reporter_id   text,
  flagger       text,
  category      text NOT NULL,
  subject_kind  text NOT NULL CHECK (subject_kind IN ('content', 'account')),
  subject_id    text NOT NULL,
  content_id    text,
  account_id    text,
  received_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue           text NOT NULL REFERENCES review_queues(name),
  subject_kind    text NOT NULL CHECK (subject_kind IN ('content', 'account', 'network')),
  subject_id      text NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'decided')),
  severity        text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  priority        integer NOT NULL CHECK (priority BETWEEN 0 AND 100),
  trusted_flagger boolean NOT NULL DEFAULT false,
  minor_involved  boolean NOT NULL DEFAULT false,
  network_size    integer,
  -- Order within a queue after trusted-flagger cases: severity, rule priority, minors, network size.
  rank            integer NOT NULL,
  reasons         jsonb NOT NULL DEFAULT '[]',
  created_at      timestamptz NOT NULL DEFAULT now(),
  due_at          timestamptz NOT NULL,
  claimed_by      integer REFERENCES reviewers(id),
  claimed_until   timestamptz,
  decided_at      timestamptz,
  escalated_from  bigint REFERENCES cases(id)
);
-- One undecided case per subject and queue: a second signal adds a reason to it.
CREATE UNIQUE INDEX cases_one_open_per_subject ON cases (queue, subject_kind, subject_id) WHERE status <> 'decided';
CREATE INDEX cases_next_in_queue ON cases (queue, trusted_flagger DESC, rank DESC, created_at, id) WHERE status <> 'decided';
CREATE INDEX cases_by_subject ON cases (subject_kind, subject_id);

CREATE TABLE decisions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id      bigint REFERENCES cases(id),
  verdict      text NOT NULL,
  policy       text,
  legal_ground text,
  note         text,
  decided_by   text NOT NULL,
  reviewer_id  integer REFERENCES reviewers(id),
  automated    boolean NOT NULL,
  rule_id      text,
  event_seq    bigint,
  decided_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_by_case ON decisions (case_id);
CREATE INDEX decisions_by_time ON decisions (decided_at);

-- Who did what, when and why. Each entry carries the hash of the one before, so a removed
-- or altered entry breaks the chain; the trigger below refuses changes outright.
CREATE TABLE audit_log (
  seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  action    text NOT NULL,
  subject   text NOT NULL,
  detail    jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash      text NOT NULL
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Media of matched content, kept for review only when an encryption key is configured.
CREATE TABLE content_media (
  content_id text PRIMARY KEY REFERENCES content(content_id),
  media_type text NOT NULL,
  -- AES-256-GCM: 12-byte nonce, ciphertext, 16-byte tag; key_id names the key that sealed it.
  nonce      bytea NOT NULL,
  sealed     bytea NOT NULL,
  tag        bytea NOT NULL,
  key_id     text NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now()
);
