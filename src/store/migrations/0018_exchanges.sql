-- Signal exchanges (src/exchange/): hash lists that arrive from NCMEC, StopNCII, ThreatExchange,
-- a file or another Bulwark, each feeding one bank. Credentials are never stored here: they
-- come from the environment each time an exchange runs.
CREATE TABLE exchanges (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  type        text NOT NULL,
  bank_id     integer NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
  -- The type's canonical configuration (ExchangeType.parseConfig), no secrets.
  config      jsonb NOT NULL DEFAULT '{}',
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Where each exchange's fetch got to. The checkpoint is written in the transaction that applies
-- the page it ends, so a restart resumes exactly after the last page applied.
CREATE TABLE exchange_fetch_state (
  exchange_id          integer PRIMARY KEY REFERENCES exchanges(id) ON DELETE CASCADE,
  checkpoint           jsonb,
  -- The checkpoint's progressAt: the source is fully read up to here; it never goes back.
  progress_at          timestamptz,
  last_success_at      timestamptz,
  last_attempt_at      timestamptz,
  last_error           text,
  items_fetched        bigint NOT NULL DEFAULT 0,
  consecutive_failures integer NOT NULL DEFAULT 0,
  next_attempt_at      timestamptz,
  -- A non-retryable error stopped the exchange: it waits for a config change or an operator's fetch.
  stopped              boolean NOT NULL DEFAULT false,
  -- A whole read of the source is under way (first fetch, stale refetch, a file's new version):
  -- items it reads get this generation, and those it did not read are removed when it ends.
  full_read_generation bigint,
  generation           bigint NOT NULL DEFAULT 0,
  -- The latest items the exchange could not read or Bulwark refused, each named with why (at most 100).
  skipped              jsonb NOT NULL DEFAULT '[]',
  skipped_total        bigint NOT NULL DEFAULT 0,
  -- The process running a fetch now and until when (renewed by each page), so that processes
  -- sharing PostgreSQL never run one exchange twice at once.
  lease_owner          text,
  lease_until          timestamptz
);

-- Every item an exchange has told us about, deleted ones included (a tombstone keeps its provenance).
CREATE TABLE exchange_items (
  exchange_id        integer NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
  item_key           text NOT NULL,
  member             text,
  tags               text[] NOT NULL DEFAULT '{}',
  -- The item's hashes in the registry's names and canonical values: [{signalType, value}].
  signals            jsonb NOT NULL DEFAULT '[]',
  -- Fingerprints Bulwark has no signal type for (PhotoDNA, SHA1…): shown, never matched.
  other_fingerprints jsonb NOT NULL DEFAULT '{}',
  source_opinion     text,
  deleted            boolean NOT NULL DEFAULT false,
  source_updated_at  timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  seen_generation    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (exchange_id, item_key)
);

-- Which bank entries each live item holds: an entry's provenance, and what keeps it in the
-- bank. An entry the exchanges added leaves the bank when no live item holds it any more.
CREATE TABLE exchange_item_entries (
  exchange_id integer NOT NULL,
  item_key    text NOT NULL,
  entry_id    bigint NOT NULL REFERENCES bank_entries(id) ON DELETE CASCADE,
  PRIMARY KEY (exchange_id, item_key, entry_id),
  FOREIGN KEY (exchange_id, item_key) REFERENCES exchange_items(exchange_id, item_key) ON DELETE CASCADE
);
CREATE INDEX exchange_item_entries_by_entry ON exchange_item_entries (entry_id);

-- Reviewers' verdicts on content that matched an exchanged item, waiting to be told to the
-- source: a durable outbox with retries and backoff (src/exchange/feedback.ts).
CREATE TABLE exchange_feedback (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  exchange_id     integer NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
  item_key        text NOT NULL,
  verdict         text NOT NULL CHECK (verdict IN ('seen', 'true_positive', 'false_positive')),
  reason          text,
  case_id         bigint,
  decision_id     bigint,
  -- One verdict per decision and item: a replayed event queues nothing twice.
  idempotency_key text NOT NULL UNIQUE,
  -- pending: to send; sent; failed: the source refused it for good; unsupported: the type takes no feedback.
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'unsupported')),
  attempts        integer NOT NULL DEFAULT 0,
  -- Null: due at once (queued by a decision); otherwise the backoff's time, or a sender's claim.
  next_attempt_at timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX exchange_feedback_due ON exchange_feedback (next_attempt_at) WHERE status = 'pending';
CREATE INDEX exchange_feedback_by_item ON exchange_feedback (exchange_id, item_key);
