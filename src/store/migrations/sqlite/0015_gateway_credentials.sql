-- Per-gateway credentials of the internal data API and its event stream: an admin creates one
-- per gateway (of one environment) and revokes it when that gateway must stop; only a hash of
-- the secret is kept. revoked_time 0: live.
CREATE TABLE gateway_credentials (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  name TEXT NOT NULL,
  environment TEXT NOT NULL,
  created_time BIGINT NOT NULL,
  revoked_time BIGINT NOT NULL DEFAULT 0
);
