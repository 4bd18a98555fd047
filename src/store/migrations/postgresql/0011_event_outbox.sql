-- Events this cluster's nodes published and the event log (Redis) has not taken yet.
-- A REST write appends here, never waiting for Redis; a drainer on any node moves rows
-- to the log in id order and deletes them (rows another drainer holds are skipped).
CREATE TABLE event_outbox (
  id           BIGSERIAL PRIMARY KEY,
  type         TEXT NOT NULL,
  payload      TEXT NOT NULL,
  published_at BIGINT NOT NULL
);
