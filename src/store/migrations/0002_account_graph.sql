-- Guardrail-relevant account changes take a number from this sequence, so a guardrail in
-- any process can fetch just what changed since it last looked.
CREATE SEQUENCE account_guard_seq;

-- Accounts of the platform. The dense integer id indexes the in-memory graph's arrays.
CREATE TABLE accounts (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  external_id     text NOT NULL UNIQUE,
  created_at      timestamptz,
  deleted_at      timestamptz,
  deletion_reason text,
  minor           boolean,
  minor_basis     text,
  -- Attribute events may arrive out of order: each field keeps the time of the event that set it.
  minor_at        timestamptz,
  verified        boolean,
  verified_at     timestamptz,
  label           text CHECK (label IN ('confirmed', 'suspected', 'cleared')),
  label_source    text,
  label_at        timestamptz,
  network_id      bigint,
  risk            real,
  evasion_of      integer REFERENCES accounts(id),
  first_seen      timestamptz NOT NULL DEFAULT now(),
  guard_seq       bigint NOT NULL DEFAULT nextval('account_guard_seq')
);
CREATE INDEX accounts_by_guard_seq ON accounts (guard_seq);

-- Every label ever given, with who or what gave it; accounts.label is the latest.
CREATE TABLE account_labels (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id integer NOT NULL REFERENCES accounts(id),
  label      text NOT NULL CHECK (label IN ('confirmed', 'suspected', 'cleared')),
  source     text NOT NULL,
  detail     jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_labels_by_account ON account_labels (account_id, id);

-- Interactions between accounts, aggregated per direction and kind.
CREATE TABLE account_edges (
  src      integer NOT NULL REFERENCES accounts(id),
  dst      integer NOT NULL REFERENCES accounts(id),
  kind     text NOT NULL,
  count    integer NOT NULL,
  first_at timestamptz NOT NULL,
  last_at  timestamptz NOT NULL,
  -- Follows only: whether the follow stands as of state_at, the newest follow or unfollow seen.
  active   boolean NOT NULL DEFAULT true,
  state_at timestamptz NOT NULL,
  -- Follows only: the surface that led to the follow (a recommendation, search, ...).
  via      text,
  PRIMARY KEY (src, dst, kind)
);
CREATE INDEX account_edges_by_dst ON account_edges (dst);

-- What accounts share besides interactions: hashtags, links, identifiers (stored as keyed
-- hashes), search-query hashes and term-list matches. Accounts sharing a feature are linked
-- through it in the graph.
CREATE TABLE account_features (
  account_id integer NOT NULL REFERENCES accounts(id),
  kind       text NOT NULL,
  value      text NOT NULL,
  count      integer NOT NULL,
  first_at   timestamptz NOT NULL,
  last_at    timestamptz NOT NULL,
  PRIMARY KEY (account_id, kind, value)
);
CREATE INDEX account_features_by_value ON account_features (kind, value);

-- Who the platform's recommender and search showed to whom: the audit's input.
CREATE TABLE recommendation_impressions (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  viewer     integer NOT NULL REFERENCES accounts(id),
  shown      integer NOT NULL REFERENCES accounts(id),
  surface    text NOT NULL,
  content_id text,
  shown_at   timestamptz NOT NULL
);
CREATE INDEX recommendation_impressions_by_time ON recommendation_impressions (shown_at);

-- Ids of platform events already applied, so a redelivered event is not counted twice.
CREATE TABLE platform_event_ids (
  event_id    text PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now()
);

-- Operator term lists. Their content is supplied at run time and never leaves the store
-- except through an operator's export.
CREATE TABLE term_lists (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  action     text NOT NULL CHECK (action IN ('block', 'interstitial', 'signal')),
  revision   bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE terms (
  list_id  integer NOT NULL REFERENCES term_lists(id) ON DELETE CASCADE,
  term_id  text NOT NULL,
  term     text NOT NULL,
  mode     text NOT NULL DEFAULT 'word' CHECK (mode IN ('word', 'substring')),
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_id, term_id)
);

-- One run of network detection and what it found.
CREATE TABLE detection_runs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  parameters  jsonb NOT NULL,
  stats       jsonb NOT NULL
);

CREATE TABLE detection_leads (
  run_id     bigint NOT NULL REFERENCES detection_runs(id) ON DELETE CASCADE,
  account_id integer NOT NULL REFERENCES accounts(id),
  rank       integer NOT NULL,
  score      double precision NOT NULL,
  reasons    jsonb NOT NULL,
  PRIMARY KEY (run_id, account_id)
);

CREATE TABLE networks (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id       bigint NOT NULL REFERENCES detection_runs(id) ON DELETE CASCADE,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
  member_count integer NOT NULL,
  summary      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE network_members (
  network_id bigint NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  account_id integer NOT NULL REFERENCES accounts(id),
  role       text NOT NULL CHECK (role IN ('seller', 'buyer', 'member')),
  score      double precision NOT NULL,
  reasons    jsonb NOT NULL,
  PRIMARY KEY (network_id, account_id)
);

CREATE TABLE evasion_links (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id             bigint NOT NULL REFERENCES detection_runs(id) ON DELETE CASCADE,
  account_id         integer NOT NULL REFERENCES accounts(id),
  removed_account_id integer NOT NULL REFERENCES accounts(id),
  score              double precision NOT NULL,
  evidence           jsonb NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evasion_links_by_account ON evasion_links (account_id);

-- Where each outbox consumer has got to, so a restart resumes rather than repeats.
CREATE TABLE consumer_offsets (
  consumer text PRIMARY KEY,
  seq      bigint NOT NULL DEFAULT 0
);
