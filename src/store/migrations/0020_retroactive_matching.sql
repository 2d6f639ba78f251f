-- Retroactive matching (src/match/retroactive/): entries new to a bank are matched against
-- content stored in a recent window. content.signals is jsonb per upload; this narrow copy
-- of each signal lets a scan read ten million PDQ hashes in id order without parsing rows,
-- and lets exact values (md5, sha256) be found by an index instead of a scan.
CREATE TABLE content_signals (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  content_id  text NOT NULL REFERENCES content(content_id) ON DELETE CASCADE,
  signal_type text NOT NULL,
  value       text NOT NULL,
  -- The signal type matches only identical values (found by the index below); else by distance (scanned).
  exact       boolean NOT NULL,
  received_at timestamptz NOT NULL
);
-- md5(value): a vPDQ value lists every frame, longer than an index key may be.
CREATE INDEX content_signals_exact ON content_signals (signal_type, md5(value)) WHERE exact;
CREATE INDEX content_signals_scan ON content_signals (signal_type, id) WHERE NOT exact;
-- Where a window starts: the first id received at or after its cutoff.
CREATE INDEX content_signals_by_time ON content_signals (received_at);

-- Content stored before this migration; low-quality signals were never matched and are left out.
-- The signal types this release ships that match by distance are pdq and vpdq.
INSERT INTO content_signals (content_id, signal_type, value, exact, received_at)
SELECT c.content_id, s->>'signalType', s->>'value', (s->>'signalType') NOT IN ('pdq', 'vpdq'), c.received_at
FROM content c, jsonb_array_elements(c.signals) AS s
WHERE coalesce(s->>'status', '') <> 'low_quality' AND s->>'value' IS NOT NULL
ORDER BY c.received_at, c.content_id;

-- How far each bank's entries have been matched against stored content: every revision up
-- to `revision` is done. A job covers the revisions after it up to job_to; its progress is
-- written in the transaction that emits its matches, so a restart neither repeats nor loses any.
CREATE TABLE retroactive_checkpoints (
  bank_id          integer PRIMARY KEY REFERENCES banks(id) ON DELETE CASCADE,
  revision         bigint NOT NULL,
  job_to           bigint,
  -- Content received before this is outside the job's window.
  job_cutoff       timestamptz,
  -- 'exact' (entries with id above job_after are left), then 'scan:<signal type>' (content_signals ids above job_after are left).
  job_phase        text,
  job_after        bigint NOT NULL DEFAULT 0,
  job_entries      integer NOT NULL DEFAULT 0,
  entries_done     bigint NOT NULL DEFAULT 0,
  content_scanned  bigint NOT NULL DEFAULT 0,
  matches          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Banks that exist now start at their current revision: entries they hold already are not
-- matched against past uploads (an upgrade raises no flood of old matches); later entries are.
INSERT INTO retroactive_checkpoints (bank_id, revision) SELECT id, revision FROM banks;
