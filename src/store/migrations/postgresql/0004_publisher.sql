-- The order of an API's lifecycle changes: several can fall within one second, so the
-- history is ordered by a per-API sequence rather than by time.
ALTER TABLE api_lifecycle_history ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0;
CREATE INDEX api_lifecycle_history_sequence ON api_lifecycle_history(api_id, sequence);
