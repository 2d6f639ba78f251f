-- Evidence preserved for a report (US REPORT Act: one year, longer under a legal hold).
-- The snapshot and media are sealed with a per-record data key (AES-256-GCM); the data key
-- is wrapped by a key-encryption key from the environment, named by kek_id. Nothing here
-- but ids, times and counts is readable without that key.
CREATE SEQUENCE preservation_record_ids;
CREATE TABLE preservation_records (
  id               bigint PRIMARY KEY DEFAULT nextval('preservation_record_ids'),
  case_id          bigint NOT NULL,
  reason           text NOT NULL CHECK (reason IN ('ncmec_report', 'legal_request', 'operator')),
  requested_by     text NOT NULL,
  ncmec_report_id  text,
  preserved_at     timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  status           text NOT NULL DEFAULT 'preserved' CHECK (status IN ('preserved', 'purged')),
  -- Null once purged: without the wrapped data key nothing sealed for the record opens.
  kek_id           text,
  wrapped_key      bytea,
  snapshot_nonce   bytea,
  snapshot_sealed  bytea,
  snapshot_tag     bytea,
  media_count      integer NOT NULL DEFAULT 0,
  account_count    integer NOT NULL DEFAULT 0,
  purged_at        timestamptz,
  CHECK (expires_at >= preserved_at + interval '1 year')
);
CREATE INDEX preservation_records_by_case ON preservation_records (case_id);
CREATE INDEX preservation_records_due ON preservation_records (expires_at) WHERE status = 'preserved';

-- Sealed media objects of a record, kept in a blob store (filesystem or S3-compatible).
CREATE TABLE preservation_blobs (
  record_id  bigint NOT NULL REFERENCES preservation_records(id),
  blob_key   text NOT NULL,
  store      text NOT NULL,
  sealed_size bigint NOT NULL,
  sealed_sha256 text NOT NULL,
  PRIMARY KEY (record_id, blob_key)
);

CREATE TABLE preservation_holds (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_id   bigint NOT NULL REFERENCES preservation_records(id),
  reason      text NOT NULL,
  until       timestamptz,
  placed_by   text NOT NULL,
  placed_at   timestamptz NOT NULL,
  released_by text,
  released_at timestamptz
);
CREATE INDEX preservation_holds_by_record ON preservation_holds (record_id);

-- Every opening of a record's sealed data: who, when, why.
CREATE TABLE preservation_access (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_id   bigint NOT NULL REFERENCES preservation_records(id),
  accessed_by text NOT NULL,
  purpose     text NOT NULL,
  with_media  boolean NOT NULL,
  accessed_at timestamptz NOT NULL
);
CREATE INDEX preservation_access_by_record ON preservation_access (record_id, id);

-- The record that a record's evidence was deleted: kept for good, never changed.
CREATE TABLE preservation_tombstones (
  record_id     bigint PRIMARY KEY REFERENCES preservation_records(id),
  case_id       bigint NOT NULL,
  purged_at     timestamptz NOT NULL,
  why           text NOT NULL,
  purged_by     text NOT NULL,
  deleted       jsonb NOT NULL
);
CREATE TRIGGER preservation_access_append_only BEFORE UPDATE OR DELETE ON preservation_access FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER preservation_tombstones_append_only BEFORE UPDATE OR DELETE ON preservation_tombstones FOR EACH ROW EXECUTE FUNCTION refuse_change();
