-- Every rules and routing-policy version the service has served, so any decision's version can be
-- traced back to the exact files that made it.
CREATE TABLE rules_versions (
  version text PRIMARY KEY,          -- content hash of the rules folder
  files jsonb NOT NULL,              -- [{ "path": ..., "sha256": ... }]
  first_loaded_at timestamptz NOT NULL DEFAULT now(),
  last_loaded_at timestamptz NOT NULL DEFAULT now()
);
