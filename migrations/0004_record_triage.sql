-- The persist step of the pipeline as one server-side function, so a batch of triaged events is
-- recorded in one round trip and one transaction (group commit), set-based: three statements per
-- batch, whatever its size. A batch holds at most one event per incident (the caller keeps later
-- revisions for the next batch); incidents are locked in one order (jurisdiction, incident_id in "C"
-- collation), so concurrent batches, from this replica or another, cannot deadlock.
--
-- Each item (jsonb): event_id, incident_id, jurisdiction, revision, decision_id, rules_version,
-- policy_version, gate, mode, categories (array), decision (the decision with "supersedes": null),
-- call, decided_at, and referral (null, or referral_id, pool_id, reasons, due_by).
--
-- One row per item, in order: ord (its 1-based position), outcome ('decided', 'duplicate' or 'stale') and
--   decided:   previous = the incident's decision it supersedes (written into the stored decision)
--   duplicate: decision = the decision already stored for this event id
--   stale:     previous = the incident's current decision (the event is recorded in stale_events)

CREATE FUNCTION record_triage(items jsonb)
RETURNS TABLE (ord integer, outcome text, previous uuid, decision jsonb)
LANGUAGE plpgsql
-- A batch is small and every row is found by a unique index: nested loops, never a hash of a table.
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
BEGIN
  IF (SELECT count(DISTINCT (e->>'jurisdiction', e->>'incident_id')) FROM jsonb_array_elements(items) e)
     <> jsonb_array_length(items) THEN
    RAISE EXCEPTION 'record_triage: a batch may hold one event per incident';
  END IF;

  -- New incidents: inserted in lock order (an insert racing ours waits for it, then skips).
  INSERT INTO incidents (jurisdiction, incident_id)
  SELECT e->>'jurisdiction', e->>'incident_id' FROM jsonb_array_elements(items) e
  ORDER BY e->>'jurisdiction' COLLATE "C", e->>'incident_id' COLLATE "C"
  ON CONFLICT DO NOTHING;

  -- Lock every incident of the batch, in order: revisions of one incident are decided one at a
  -- time, whichever replica gets them.
  PERFORM 1 FROM incidents i
  JOIN jsonb_array_elements(items) e ON i.jurisdiction = e->>'jurisdiction' AND i.incident_id = e->>'incident_id'
  ORDER BY i.jurisdiction COLLATE "C", i.incident_id COLLATE "C"
  FOR UPDATE OF i;

  -- With the locks held, a fresh snapshot sees the latest decision of each incident and any event
  -- already decided by the transaction we waited for.
  RETURN QUERY
  WITH input AS (
    SELECT e.ordinality::integer AS ord, e.value AS item, e.value->>'jurisdiction' AS jurisdiction,
      e.value->>'incident_id' AS incident_id, e.value->>'event_id' AS event_id,
      (e.value->>'revision')::integer AS revision, (e.value->>'decision_id')::uuid AS decision_id
    FROM jsonb_array_elements(items) WITH ORDINALITY AS e
  ),
  plan AS (
    SELECT input.*, i.latest_decision_id, d.decision AS existing,
      CASE
        WHEN d.event_id IS NOT NULL THEN 'duplicate'
        WHEN input.revision <= i.latest_revision THEN 'stale'
        ELSE 'decided'
      END AS outcome
    FROM input
    JOIN incidents i ON i.jurisdiction = input.jurisdiction AND i.incident_id = input.incident_id
    LEFT JOIN decisions d ON d.event_id = input.event_id
  ),
  decided AS (
    INSERT INTO decisions (decision_id, event_id, incident_id, revision, jurisdiction, supersedes,
      rules_version, policy_version, gate, mode, categories, decision, call, decided_at)
    SELECT p.decision_id, p.event_id, p.incident_id, p.revision, p.jurisdiction, p.latest_decision_id,
      p.item->>'rules_version', p.item->>'policy_version', p.item->>'gate', p.item->>'mode',
      ARRAY(SELECT jsonb_array_elements_text(p.item->'categories')),
      jsonb_set(p.item->'decision', '{supersedes}', COALESCE(to_jsonb(p.latest_decision_id), 'null'::jsonb)),
      p.item->'call', (p.item->>'decided_at')::timestamptz
    FROM plan p WHERE p.outcome = 'decided'
  ),
  moved AS (
    UPDATE incidents i SET latest_revision = p.revision, latest_decision_id = p.decision_id, updated_at = now()
    FROM plan p
    WHERE p.outcome = 'decided' AND i.jurisdiction = p.jurisdiction AND i.incident_id = p.incident_id
  ),
  referred AS (
    INSERT INTO referrals (referral_id, decision_id, incident_id, jurisdiction, pool_id, reasons, due_by)
    SELECT (p.item->'referral'->>'referral_id')::uuid, p.decision_id, p.incident_id, p.jurisdiction,
      p.item->'referral'->>'pool_id', ARRAY(SELECT jsonb_array_elements_text(p.item->'referral'->'reasons')),
      (p.item->'referral'->>'due_by')::timestamptz
    FROM plan p WHERE p.outcome = 'decided' AND jsonb_typeof(p.item->'referral') = 'object'
  ),
  stale AS (
    INSERT INTO stale_events (event_id, jurisdiction, incident_id, revision, current_decision_id)
    SELECT p.event_id, p.jurisdiction, p.incident_id, p.revision, p.latest_decision_id
    FROM plan p WHERE p.outcome = 'stale'
    ON CONFLICT (event_id) DO NOTHING
  )
  SELECT p.ord, p.outcome, CASE WHEN p.outcome = 'duplicate' THEN NULL ELSE p.latest_decision_id END,
    p.existing
  FROM plan p ORDER BY p.ord;
END $$;

-- Decisions are written once and read rarely: lz4 compresses them at a fraction of pglz's cost.
-- (A PostgreSQL built without lz4, such as the embedded one, keeps its default.)
DO $$
BEGIN
  ALTER TABLE decisions ALTER COLUMN decision SET COMPRESSION lz4, ALTER COLUMN call SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  NULL;
END $$;
