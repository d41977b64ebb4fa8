-- One canonical jurisdiction id everywhere (src/domain/jurisdiction.ts): the pipeline now turns the
-- call's jurisdiction into it at intake. Earlier versions stored it as the CAD spelled it, so one
-- town could be several ("New Haven", "new-haven"): those are merged here. Same rule as the code:
-- trimmed, lower-case, runs of white space as one hyphen.
CREATE FUNCTION jurisdiction_id(name text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT regexp_replace(lower(regexp_replace(name, '^\s+|\s+$', '', 'g')), '\s+', '-', 'g')
$$;

ALTER TABLE decisions DROP CONSTRAINT decisions_jurisdiction_incident_id_fkey;
ALTER TABLE stale_events DROP CONSTRAINT stale_events_jurisdiction_incident_id_fkey;
ALTER TABLE referrals DROP CONSTRAINT referrals_jurisdiction_incident_id_fkey;

-- An incident recorded under several spellings becomes one: the row with the latest revision keeps
-- the incident's current state; every decision of the others stays, now under the canonical id.
WITH ranked AS (
  SELECT jurisdiction, incident_id,
         row_number() OVER (PARTITION BY jurisdiction_id(jurisdiction), incident_id
                            ORDER BY latest_revision DESC, updated_at DESC, jurisdiction) AS n
  FROM incidents)
DELETE FROM incidents i USING ranked r
WHERE i.jurisdiction = r.jurisdiction AND i.incident_id = r.incident_id AND r.n > 1;
UPDATE incidents SET jurisdiction = jurisdiction_id(jurisdiction) WHERE jurisdiction <> jurisdiction_id(jurisdiction);

-- The audit keeps each decision as made (its JSON is untouched); only the column that reports,
-- access checks and lookups use is rewritten.
ALTER TABLE decisions DISABLE TRIGGER decisions_append_only;
UPDATE decisions SET jurisdiction = jurisdiction_id(jurisdiction) WHERE jurisdiction <> jurisdiction_id(jurisdiction);
ALTER TABLE decisions ENABLE TRIGGER decisions_append_only;
UPDATE stale_events SET jurisdiction = jurisdiction_id(jurisdiction) WHERE jurisdiction <> jurisdiction_id(jurisdiction);
UPDATE referrals SET jurisdiction = jurisdiction_id(jurisdiction) WHERE jurisdiction <> jurisdiction_id(jurisdiction);

ALTER TABLE decisions ADD CONSTRAINT decisions_jurisdiction_incident_id_fkey
  FOREIGN KEY (jurisdiction, incident_id) REFERENCES incidents (jurisdiction, incident_id);
ALTER TABLE stale_events ADD CONSTRAINT stale_events_jurisdiction_incident_id_fkey
  FOREIGN KEY (jurisdiction, incident_id) REFERENCES incidents (jurisdiction, incident_id);
ALTER TABLE referrals ADD CONSTRAINT referrals_jurisdiction_incident_id_fkey
  FOREIGN KEY (jurisdiction, incident_id) REFERENCES incidents (jurisdiction, incident_id);

-- The audit log of admin actions: keys created and revoked, rules reloaded, narratives purged; who
-- did it (the acting API key id, `cli:<user>` or `service`) and when. Append-only, like decisions.
CREATE TABLE admin_audit (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the admin audit is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit
  FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only();
