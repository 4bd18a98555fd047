-- Analytics from every gateway: the control plane receives the rollups of gateways without a
-- database (POST /internal/data/v1/analytics/batches), so a rollup row also names the gateway
-- that served its calls (`node_id`, part of the key: rows of several gateways stay apart and
-- the query API can group by gateway). Rows written before this migration get ''.
ALTER TABLE analytics_rollups ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
ALTER TABLE analytics_rollups DROP CONSTRAINT analytics_rollups_pkey;
ALTER TABLE analytics_rollups ADD PRIMARY KEY (minute, api_id, api_name, api_version, api_method,
  resource_template, application_id, application_name, application_owner, status_class, node_id);
CREATE INDEX analytics_rollups_node_minute ON analytics_rollups(node_id, minute);

-- Batches received from gateways, by (gateway, batch id), so that a batch re-sent after its
-- answer was lost is added once. Rows older than a week are pruned on receipt.
CREATE TABLE analytics_received_batches (
  node_id           TEXT NOT NULL,
  batch_id          TEXT NOT NULL,
  received_at       BIGINT NOT NULL,
  PRIMARY KEY (node_id, batch_id)
);
CREATE INDEX analytics_received_batches_received ON analytics_received_batches(received_at);
