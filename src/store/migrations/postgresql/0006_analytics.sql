-- Analytics: API calls rolled up per minute by the gateway's analytics writer. A row
-- is one (minute, API, resource, application, status class); every flush adds to it
-- (INSERT ... ON CONFLICT DO UPDATE), so rows from several gateways add up. Names are
-- kept beside the ids so that a dashboard still reads after an API or application is
-- deleted or renamed (a rename starts new rows).
-- `minute` is the minute's start in unix seconds. h00..h24 count calls per latency bucket
-- (upper bounds in ms 1 2 3 5 8 12 20 30 50 75 100 150 200 300 500 750 1000 1500 2000
-- 3000 5000 10000 30000 60000, then the rest), enough for p50/p90/p99 within a bucket.
CREATE TABLE analytics_rollups (
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
  PRIMARY KEY (minute, api_id, api_name, api_version, api_method, resource_template,
               application_id, application_name, application_owner, status_class)
);
-- The query API's filters, each with the time range after it.
CREATE INDEX analytics_rollups_api_minute ON analytics_rollups(api_id, minute);
CREATE INDEX analytics_rollups_application_minute ON analytics_rollups(application_id, minute);
CREATE INDEX analytics_rollups_owner_minute ON analytics_rollups(application_owner, minute);

-- Batches of rollups already added, so that a batch replayed from a spill file is added
-- once: also when its first write committed but the answer was lost. Rows older than a day
-- are pruned by the writer.
CREATE TABLE analytics_batches (
  batch_id          TEXT PRIMARY KEY,
  applied_at        BIGINT NOT NULL
);
CREATE INDEX analytics_batches_applied ON analytics_batches(applied_at);
