-- What the HMA-compatible API (src/http/routes/hma/) keeps about a piece of banked content
-- beyond its hashes: HMA's "bank content" groups one signal per type of the same media under
-- one id, with a note and user metadata. Bulwark stores one entry per hash; an entry added
-- through the HMA API gets a row here naming its content, whose id is the id of the content's
-- first entry. Entries without a row (imports, /v1, exchanges) are each a content of their own.
CREATE TABLE bank_content_details (
  entry_id    bigint PRIMARY KEY REFERENCES bank_entries(id) ON DELETE CASCADE,
  content_id  bigint NOT NULL,
  -- HMA's note: at most 255 characters.
  note        text,
  -- HMA's user metadata {content_id, content_uri, json}.
  metadata    jsonb
);
CREATE INDEX bank_content_details_by_content ON bank_content_details (content_id);
