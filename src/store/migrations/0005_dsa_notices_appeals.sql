-- Trusted flaggers (DSA Art. 22): bodies whose notices are handled first.
CREATE TABLE trusted_flaggers (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  -- The Digital Services Coordinator that awarded the status, and where it is recorded.
  awarded_by    text NOT NULL,
  reference     text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

-- Notices of illegal content (DSA Art. 16), from the public form, the API or trusted flaggers.
CREATE TABLE notices (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Art. 16(2)(a): why the notifier considers the content illegal.
  explanation        text NOT NULL,
  -- Art. 16(2)(b): the exact electronic location(s).
  locations          text[] NOT NULL,
  -- What the location resolves to on the platform, when the notifier or the platform named it.
  subject_kind       text CHECK (subject_kind IN ('content', 'account')),
  subject_id         text,
  category           text NOT NULL,
  -- Art. 16(2)(c): not required for notices of child sexual abuse material.
  notifier_name      text,
  notifier_email     text,
  -- Art. 16(2)(d): the good-faith statement.
  good_faith         boolean NOT NULL,
  trusted_flagger_id integer REFERENCES trusted_flaggers(id),
  channel            text NOT NULL CHECK (channel IN ('api', 'web_form', 'trusted_flagger')),
  received_at        timestamptz NOT NULL DEFAULT now(),
  acknowledged_at    timestamptz,
  case_id            bigint REFERENCES cases(id),
  decided_at         timestamptz,
  decision_id        bigint REFERENCES decisions(id),
  -- Set when the notifier has been told the decision (Art. 16(5)).
  notified_at        timestamptz
);
CREATE INDEX notices_by_received ON notices (received_at);
CREATE INDEX notices_by_subject ON notices (subject_kind, subject_id);

-- Notices that name no subject Bulwark can resolve wait here for the platform to say what they point at.
CREATE INDEX notices_unresolved ON notices (id) WHERE subject_id IS NULL;

-- A case some reviewer may not take: an appeal goes to someone other than the one who decided.
ALTER TABLE cases ADD COLUMN excluded_reviewer_id integer REFERENCES reviewers(id);
-- Appeals are cases too, about the appeal itself.
ALTER TABLE cases DROP CONSTRAINT cases_subject_kind_check;
ALTER TABLE cases ADD CONSTRAINT cases_subject_kind_check CHECK (subject_kind IN ('content', 'account', 'network', 'appeal'));

-- Appeals against decisions (DSA Art. 20), within six months of the decision.
CREATE TABLE appeals (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  decision_id    bigint NOT NULL REFERENCES decisions(id),
  case_id        bigint REFERENCES cases(id),
  -- The platform's id of the user appealing, and how to reach them through the platform.
  appellant_id   text NOT NULL,
  statement      text NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  -- The appeal's own review case, decided by someone other than the original decider.
  review_case_id bigint REFERENCES cases(id),
  status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'upheld', 'reversed')),
  resolved_at    timestamptz,
  resolved_by    text,
  outcome_note   text,
  notified_at    timestamptz
);
CREATE INDEX appeals_by_decision ON appeals (decision_id);

-- Orders from judicial or administrative authorities (DSA Art. 9 and 10), for transparency reports.
CREATE TABLE authority_orders (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('act_against_illegal_content', 'provide_information')),
  member_state  text NOT NULL,
  authority     text NOT NULL,
  category      text NOT NULL,
  received_at   timestamptz NOT NULL,
  acknowledged_at timestamptz,
  given_effect_at timestamptz
);

-- Reversing a decision on appeal undoes its actions.
ALTER TABLE actions DROP CONSTRAINT actions_type_check;
ALTER TABLE actions ADD CONSTRAINT actions_type_check CHECK (type IN ('remove_content', 'restrict_account', 'suspend_account', 'takedown_network', 'block_identifier',
  'restore_content', 'reinstate_account', 'unblock_identifier'));
