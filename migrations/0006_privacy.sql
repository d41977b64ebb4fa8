-- Privacy by design (README, "Privacy"): a stored call keeps the phone and the address only as keyed
-- hashes, coordinates only as a coarse area, no field the service does not read, and its narrative
-- only for the retention period (NARRATIVE_RETENTION_DAYS), after which src/triage/privacy.ts purges it.

-- The decision audit stays append-only, with one exception: the narrative purge, which may replace a
-- stored call by the same call without its narrative, inside a transaction that says so. Every other
-- column (compared as a whole row, so columns added later are covered too) must stay as it was.
CREATE OR REPLACE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND current_setting('cad_triage.purge', true) = 'narratives'
     AND NEW.call = (OLD.call - 'narrative') || '{"narrativeOmitted": "purged"}'::jsonb
     AND to_jsonb(NEW) - 'call' = to_jsonb(OLD) - 'call' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'decisions are append-only (% refused)', TG_OP;
END $$;

-- The purge finds the narratives due without reading the whole audit.
CREATE INDEX decisions_narrative_due ON decisions (decided_at) WHERE call ? 'narrative';

-- Calls stored by earlier versions kept the address, the coordinates and unknown fields in clear:
-- rebuilt here to what the service stores now (the address cannot be hashed in SQL without the
-- key, so it is dropped; the phone was already a keyed hash). The narrative stays until the purge.
ALTER TABLE decisions DISABLE TRIGGER decisions_append_only;
UPDATE decisions SET call = jsonb_strip_nulls(jsonb_build_object(
  'eventId', call->'eventId',
  'incidentId', call->'incidentId',
  'revision', call->'revision',
  'occurredAt', call->'occurredAt',
  'agency', jsonb_build_object('id', call->'agency'->'id', 'jurisdiction', call->'agency'->'jurisdiction'),
  'callType', jsonb_strip_nulls(jsonb_build_object(
    'code', call->'callType'->'code',
    'description', call->'callType'->'description',
    'commonType', call->'callType'->'commonType')),
  'priority', call->'priority',
  'source', call->'source',
  'location', CASE WHEN call ? 'location' THEN nullif(jsonb_strip_nulls(jsonb_build_object(
    'area', CASE WHEN jsonb_typeof(call->'location'->'lat') = 'number' AND jsonb_typeof(call->'location'->'lon') = 'number'
      THEN jsonb_build_object('lat', round((call->'location'->>'lat')::numeric, 2), 'lon', round((call->'location'->>'lon')::numeric, 2)) END,
    'placeType', call->'location'->'placeType',
    'premiseFlags', call->'location'->'premiseFlags')), '{}'::jsonb) END,
  'narrative', call->'narrative',
  'caller', CASE WHEN call ? 'caller' THEN nullif(jsonb_strip_nulls(jsonb_build_object(
    'relationship', call->'caller'->'relationship',
    'phoneHash', to_jsonb(nullif(regexp_replace(call->'caller'->>'phone', '^hmac:', ''), '')))), '{}'::jsonb) END,
  'subjects', CASE WHEN jsonb_typeof(call->'subjects') = 'array' THEN (
    SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('age', s->'age', 'role', s->'role')) ORDER BY i), '[]'::jsonb)
    FROM jsonb_array_elements(call->'subjects') WITH ORDINALITY AS e(s, i)) END,
  'screening', CASE WHEN call ? 'screening' THEN nullif(jsonb_strip_nulls(jsonb_build_object(
    'weapons', call->'screening'->'weapons',
    'violence', call->'screening'->'violence',
    'threatsToOthers', call->'screening'->'threatsToOthers',
    'injuries', call->'screening'->'injuries',
    'crimeInProgress', call->'screening'->'crimeInProgress',
    'medicalEmergency', call->'screening'->'medicalEmergency',
    'substanceInvolved', call->'screening'->'substanceInvolved')), '{}'::jsonb) END));
ALTER TABLE decisions ENABLE TRIGGER decisions_append_only;
