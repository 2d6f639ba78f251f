-- Hash banks: lists of known media signals that an operator loads from trusted sources.
CREATE TABLE banks (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL DEFAULT true,
  -- Bumped in the same transaction as every change to the bank's entries, so a matcher in
  -- any process can tell that its in-memory index of the bank is stale.
  revision    bigint NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per import, so every entry can say where it came from.
CREATE TABLE bank_imports (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bank_id        integer NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
  source_name    text NOT NULL,
  format         text NOT NULL,
  rows_read      integer NOT NULL,
  rows_added     integer NOT NULL,
  rows_duplicate integer NOT NULL,
  imported_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bank_entries (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bank_id     integer NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
  signal_type text NOT NULL,
  value       text NOT NULL,
  source      text,
  tags        text[] NOT NULL DEFAULT '{}',
  import_id   bigint REFERENCES bank_imports(id) ON DELETE SET NULL,
  added_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bank_id, signal_type, value)
);
CREATE INDEX bank_entries_by_signal ON bank_entries (signal_type, value);

-- Content the platform submitted, its computed signals and what it matched.
CREATE TABLE content (
  content_id   text PRIMARY KEY,
  account_id   text NOT NULL,
  content_type text NOT NULL,
  signals      jsonb NOT NULL,
  matches      jsonb NOT NULL,
  created_at   timestamptz,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX content_by_account ON content (account_id, received_at);

-- Append-only log of domain events (outbox): later pipeline stages read it by sequence.
CREATE TABLE events (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type        text NOT NULL,
  subject     text NOT NULL,
  payload     jsonb NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_by_type ON events (type, seq);

CREATE TABLE api_keys (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL,
  -- Only the SHA-256 of a key is kept; the key itself is shown once, at creation.
  key_sha256   text NOT NULL UNIQUE,
  key_prefix   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
