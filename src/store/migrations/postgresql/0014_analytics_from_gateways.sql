-- Analytics from every gateway: the control plane receives the rollups of gateways without a
-- database (POST /internal/data/v1/analytics/batches), so a rollup row also names the gateway
-- that served its calls (`node_id`, part of the key: rows of several gateways stay apart and
-- the query API can group by gateway). Rows written before this migration get ''.
-- The table is rebuilt, as on SQLite (which cannot change a primary key in place): one copy
-- instead of a column rewrite plus a primary-key rebuild. Its primary-key index keeps the name
-- analytics_rollups_with_node_pkey.
CREATE TABLE analytics_rollups_with_node (
  minute            BIGINT NOT NULL,
  api_id            TEXT NOT NULL,
  api_name          TEXT NOT NULL,
  api_version       TEXT NOT NULL,
  api_method        TEXT NOT NULL,
  resource_template TEXT NOT NULL,
  application_id    TEXT NOT NULL,
  application_name  TEXT NOT NULL,
  application_owner TEXT NOT NULL,
  status_class      TEXT NOT NULL,
  requests          BIGINT NOT NULL,
  errors            BIGINT NOT NULL,
  throttled         BIGINT NOT NULL,
  latency_sum_ms    BIGINT NOT NULL,
  request_bytes     BIGINT NOT NULL,
  response_bytes    BIGINT NOT NULL,
  h00               BIGINT NOT NULL,
  h01               BIGINT NOT NULL,
  h02               BIGINT NOT NULL,
  h03               BIGINT NOT NULL,
  h04               BIGINT NOT NULL,
  h05               BIGINT NOT NULL,
  h06               BIGINT NOT NULL,
  h07               BIGINT NOT NULL,
  h08               BIGINT NOT NULL,
  h09               BIGINT NOT NULL,
  h10               BIGINT NOT NULL,
  h11               BIGINT NOT NULL,
  h12               BIGINT NOT NULL,
  h13               BIGINT NOT NULL,
  h14               BIGINT NOT NULL,
  h15               BIGINT NOT NULL,
  h16               BIGINT NOT NULL,
  h17               BIGINT NOT NULL,
  h18               BIGINT NOT NULL,
  h19               BIGINT NOT NULL,
  h20               BIGINT NOT NULL,
  h21               BIGINT NOT NULL,
  h22               BIGINT NOT NULL,
  h23               BIGINT NOT NULL,
  h24               BIGINT NOT NULL,
  node_id           TEXT NOT NULL,
  PRIMARY KEY (minute, api_id, api_name, api_version, api_method, resource_template,
               application_id, application_name, application_owner, status_class, node_id)
);
-- node_id is the last column: SELECT * and then its value.
INSERT INTO analytics_rollups_with_node SELECT *, '' FROM analytics_rollups;
DROP TABLE analytics_rollups;
ALTER TABLE analytics_rollups_with_node RENAME TO analytics_rollups;
CREATE INDEX analytics_rollups_api_minute ON analytics_rollups(api_id, minute);
CREATE INDEX analytics_rollups_application_minute ON analytics_rollups(application_id, minute);
CREATE INDEX analytics_rollups_owner_minute ON analytics_rollups(application_owner, minute);
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
