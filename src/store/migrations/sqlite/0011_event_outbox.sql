-- Events this cluster's nodes published and the event log (Redis) has not taken yet.
-- A REST write appends here, never waiting for Redis; a drainer on any node moves rows
-- to the log in id order and deletes them.
CREATE TABLE event_outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  type         TEXT NOT NULL,
  payload      TEXT NOT NULL,
  published_at INTEGER NOT NULL
);
