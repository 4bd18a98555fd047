-- Secrets every node of a cluster must share, created once by whichever node starts first:
-- the key of the HMAC that client secrets are stored under, so that a secret registered on
-- one node verifies on all.
CREATE TABLE cluster_secrets (
  name        TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
