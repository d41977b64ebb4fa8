-- The triage record: one decision per accepted call event (append-only), the current state of each
-- incident, late or duplicate revisions that did not change it, and the follow-up referral queue.
-- An incident is identified by its jurisdiction and CAD incident number: incident numbers are unique
-- within one CAD, not across the towns that share a deployment (and a regional responder pool).

CREATE TABLE incidents (
  jurisdiction text NOT NULL,
  incident_id text NOT NULL,
  latest_revision integer NOT NULL DEFAULT 0,
  latest_decision_id uuid,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (jurisdiction, incident_id)
);

-- The audit: the full decision as sent, with the rules and policy versions that made it, and the call
-- it was made from (the caller's phone number replaced by a keyed hash) so it can be replayed.
CREATE TABLE decisions (
  decision_id uuid PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  jurisdiction text NOT NULL,
  incident_id text NOT NULL,
  revision integer NOT NULL,
  supersedes uuid REFERENCES decisions (decision_id),
  rules_version text NOT NULL,
  policy_version text NOT NULL,
  gate text NOT NULL,
  mode text NOT NULL,
  categories text[] NOT NULL,
  decision jsonb NOT NULL,
  call jsonb NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (jurisdiction, incident_id) REFERENCES incidents (jurisdiction, incident_id)
);
CREATE INDEX decisions_incident ON decisions (incident_id, jurisdiction, revision);
CREATE INDEX decisions_jurisdiction_time ON decisions (jurisdiction, decided_at);

-- History is not rewritten: decisions can be added, never changed or removed.
CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'decisions are append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
  FOR EACH ROW EXECUTE FUNCTION decisions_append_only();

-- An event that arrived after a newer (or the same) revision of its incident: recorded, not decided.
CREATE TABLE stale_events (
  event_id text PRIMARY KEY,
  jurisdiction text NOT NULL,
  incident_id text NOT NULL,
  revision integer NOT NULL,
  current_decision_id uuid REFERENCES decisions (decision_id),
  received_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (jurisdiction, incident_id) REFERENCES incidents (jurisdiction, incident_id)
);

-- Follow-up referrals: the work queue of social workers (open -> assigned -> contacted -> closed).
CREATE TABLE referrals (
  referral_id uuid PRIMARY KEY,
  decision_id uuid NOT NULL UNIQUE REFERENCES decisions (decision_id),
  jurisdiction text NOT NULL,
  incident_id text NOT NULL,
  pool_id text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'contacted', 'closed')),
  reasons text[] NOT NULL,
  due_by timestamptz,
  assigned_to text,
  outcome text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (jurisdiction, incident_id) REFERENCES incidents (jurisdiction, incident_id)
);
CREATE INDEX referrals_queue ON referrals (jurisdiction, status, created_at);

-- What dispatch actually did with a decision: accepted or overridden, the mode sent, why, and later
-- the disposition. Append-only too: a correction is a new row.
CREATE TABLE feedback (
  feedback_id uuid PRIMARY KEY,
  decision_id uuid NOT NULL REFERENCES decisions (decision_id),
  action text NOT NULL CHECK (action IN ('accepted', 'overridden')),
  mode_sent text,
  reason text,
  disposition text,
  submitted_by text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_decision ON feedback (decision_id);
