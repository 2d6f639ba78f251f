-- Enforcement actions the platform is asked to carry out, and every attempt to deliver them.
-- An action row is written in the transaction of the decision that caused it and is the
-- outbox for its delivery: it stays until the platform has confirmed it or it is declared
-- dead, across restarts of any process.
CREATE TABLE actions (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- A network takedown is a parent whose children (one suspend_account per member) are
  -- delivered; the parent itself is never sent.
  parent_id        bigint REFERENCES actions(id),
  type             text NOT NULL CHECK (type IN ('remove_content', 'restrict_account', 'suspend_account', 'takedown_network', 'block_identifier')),
  target_kind      text NOT NULL CHECK (target_kind IN ('content', 'account', 'network')),
  target_id        text NOT NULL,
  idempotency_key  text NOT NULL UNIQUE,
  status           text NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'dead', 'partial')),
  -- Attempts ever made (attempt numbers keep rising across operator re-queues); the
  -- attempt budget counts from attempts_at_requeue.
  attempts         integer NOT NULL DEFAULT 0,
  attempts_at_requeue integer NOT NULL DEFAULT 0,
  requeues         integer NOT NULL DEFAULT 0,
  -- Null for parents and for finished actions: only rows with a time here are ever claimed.
  next_attempt_at  timestamptz,
  -- A dispatcher owns a claimed row until lease_until, so several processes can deliver
  -- without sending one action twice at once, and a crashed one's rows come back.
  lease_owner      text,
  lease_until      timestamptz,
  -- A status code, 'timeout', a network error code or a configuration problem; never a response body.
  last_error       text,
  -- What the platform answered on success (JSON, size-capped).
  result           jsonb,
  decided_by       text NOT NULL,
  automated        boolean NOT NULL,
  -- Plain numbers, not foreign keys: cases and decisions live in another stage's tables.
  case_id          bigint,
  decision_id      bigint,
  rule_id          text,
  reason           jsonb NOT NULL DEFAULT '{}',
  -- block_identifier: keyed hashes of the account's identifiers, never raw values.
  identifiers      jsonb,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz
);
CREATE INDEX actions_due ON actions (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX actions_by_parent ON actions (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX actions_by_case ON actions (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX actions_by_decision ON actions (decision_id, id) WHERE decision_id IS NOT NULL;
CREATE INDEX actions_by_status ON actions (status, id);

CREATE TABLE action_attempts (
  action_id    bigint NOT NULL REFERENCES actions(id),
  attempt      integer NOT NULL,
  started_at   timestamptz NOT NULL,
  -- in_flight until the answer is in; lease_expired when its dispatcher vanished mid-attempt.
  outcome      text NOT NULL CHECK (outcome IN ('in_flight', 'succeeded', 'already_applied', 'retry', 'permanent', 'lease_expired')),
  status_code  integer,
  duration_ms  integer,
  error_code   text,
  PRIMARY KEY (action_id, attempt)
);
