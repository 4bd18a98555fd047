-- Counts of long throttling windows (an hour or longer) that must outlive a process: an
-- all-in-one node flushes its counter table here, traffic managers their Redis counters.
-- counter_key: 16 hex digits of the stable counter hash; window_index: floor(unix ms /
-- window_ms); limit_amount 0: unknown. window_end_ms lets open windows be read and ended
-- ones purged without arithmetic in SQL.
CREATE TABLE quota_windows (
  counter_key TEXT NOT NULL,
  window_ms BIGINT NOT NULL,
  window_index BIGINT NOT NULL,
  used BIGINT NOT NULL,
  limit_amount BIGINT NOT NULL DEFAULT 0,
  window_end_ms BIGINT NOT NULL,
  PRIMARY KEY (counter_key, window_ms, window_index)
);
CREATE INDEX quota_windows_by_end ON quota_windows (window_end_ms);
