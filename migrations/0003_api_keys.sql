-- API keys: who may call the REST API, with which role, for which jurisdictions. Only a hash of the
-- secret is stored; the key itself is shown once, when it is created.
CREATE TABLE api_keys (
  key_id text PRIMARY KEY,                 -- the public part of ct_<id>_<secret>
  secret_sha256 text NOT NULL,             -- hex sha256 of the secret part
  role text NOT NULL CHECK (role IN ('dispatch', 'vendor', 'admin')),
  jurisdictions text[] NOT NULL,           -- policy ids the key may see; '{*}' = all
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
