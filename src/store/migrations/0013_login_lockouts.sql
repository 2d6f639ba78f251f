-- Failed console logins, counted in the store so that a lockout holds on every server and
-- survives a restart. One row per reviewer account (scope 'account', key the reviewer's id:
-- names that do not exist get no row, so invented names cannot fill the table) and one per
-- source address (scope 'address', key the address or its IPv6 /64). Address rows are
-- capped by the service; a row is only ever removed once it has expired, so filling the
-- table never evicts a live lock.
CREATE TABLE login_failures (
  scope            text NOT NULL CHECK (scope IN ('account', 'address')),
  key              text NOT NULL,
  window_started_at timestamptz NOT NULL,
  failures         integer NOT NULL,
  locked_until     timestamptz,
  -- When the row stops mattering: the end of its counting window or of its lock, whichever is later.
  expires_at       timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX login_failures_expiry ON login_failures (expires_at);
