-- A reveal opens a case's original media to the reviewer who asked, for one fetch within a
-- short time; until then the console gets a blurred, greyscale preview made by the server.
CREATE TABLE media_reveals (
  case_id      bigint NOT NULL REFERENCES cases(id),
  reviewer_id  integer NOT NULL REFERENCES reviewers(id),
  content_id   text NOT NULL,
  open_until   timestamptz NOT NULL,
  PRIMARY KEY (case_id, reviewer_id)
);

-- "Viewed by the company" (NCMEC fileViewedByEsp) is whether anyone revealed a content's media,
-- in any case: reveals name their content id; older ones only the case's subject.
CREATE INDEX audit_log_media_revealed ON audit_log ((COALESCE(detail->>'content_id', CASE WHEN detail->'subject'->>'kind' = 'content' THEN detail->'subject'->>'id' END)))
  WHERE action = 'media.revealed';
