-- Analytics from every gateway: the control plane receives the rollups of gateways without a
-- database (POST /internal/data/v1/analytics/batches), so a rollup row also names the gateway
-- that served its calls (`node_id`, part of the key: rows of several gateways stay apart and
-- the query API can group by gateway). Rows written before this migration get ''.
-- SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE analytics_rollups_with_node (
  minute            INTEGER NOT NULL,
  api_id            TEXT NOT NULL,
  api_name          TEXT NOT NULL,
  api_version       TEXT NOT NULL,
  api_method        TEXT NOT NULL,
  resource_template TEXT NOT NULL,
  application_id    TEXT NOT NULL,
  application_name  TEXT NOT NULL,
  application_owner TEXT NOT NULL,
  status_class      TEXT NOT NULL,
  requests          INTEGER NOT NULL,
  errors            INTEGER NOT NULL,
  throttled         INTEGER NOT NULL,
  latency_sum_ms    INTEGER NOT NULL,
  request_bytes     INTEGER NOT NULL,
  response_bytes    INTEGER NOT NULL,
  h00               INTEGER NOT NULL,
  h01               INTEGER NOT NULL,
  h02               INTEGER NOT NULL,
  h03               INTEGER NOT NULL,
  h04               INTEGER NOT NULL,
  h05               INTEGER NOT NULL,
  h06               INTEGER NOT NULL,
  h07               INTEGER NOT NULL,
  h08               INTEGER NOT NULL,
  h09               INTEGER NOT NULL,
  h10               INTEGER NOT NULL,
  h11               INTEGER NOT NULL,
  h12               INTEGER NOT NULL,
  h13               INTEGER NOT NULL,
  h14               INTEGER NOT NULL,
  h15               INTEGER NOT NULL,
  h16               INTEGER NOT NULL,
  h17               INTEGER NOT NULL,
  h18               INTEGER NOT NULL,
  h19               INTEGER NOT NULL,
  h20               INTEGER NOT NULL,
  h21               INTEGER NOT NULL,
  h22               INTEGER NOT NULL,
  h23               INTEGER NOT NULL,
  h24               INTEGER NOT NULL,
  node_id           TEXT NOT NULL,
  PRIMARY KEY (minute, api_id, api_name, api_version, api_method, resource_template,
               application_id, application_name, application_owner, status_class, node_id)
) WITHOUT ROWID;
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
  received_at       INTEGER NOT NULL,
  PRIMARY KEY (node_id, batch_id)
);
CREATE INDEX analytics_received_batches_received ON analytics_received_batches(received_at);
