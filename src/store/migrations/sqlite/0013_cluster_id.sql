-- The cluster's id, made once per database: a gateway remembers it in its snapshot file and
-- refuses configuration pulled from another cluster (a control plane pointed at a wiped or
-- different database must not empty the gateways).
INSERT INTO cluster_secrets (name, value, created_at)
VALUES ('cluster-id', lower(hex(randomblob(16))), CAST(strftime('%s', 'now') AS INTEGER))
ON CONFLICT (name) DO NOTHING;
