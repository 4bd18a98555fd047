-- The scopes each API defines, and the roles each is bound to: read by every key manager
-- (which API's scope a token may carry) and by every publisher (a scope name belongs to one
-- API), so that no node depends on what another holds in memory. `owner` is the API's name
-- and provider (its versions share their scopes); `roles` is newline-separated, empty when
-- any role may have the scope.
CREATE TABLE api_scopes (
  api_id TEXT NOT NULL,
  name   TEXT NOT NULL,
  owner  TEXT NOT NULL,
  roles  TEXT NOT NULL,
  PRIMARY KEY (api_id, name)
);
CREATE INDEX api_scopes_name ON api_scopes(name);

-- Failed sign-ins per account and per source address, shared by the cluster's nodes so that
-- N nodes do not give a guesser N times the attempts. `kind` is 'account' or 'address';
-- times are unix milliseconds. Rows quiet for longer than the longest back-off are purged.
CREATE TABLE login_failures (
  kind         TEXT NOT NULL,
  name         TEXT NOT NULL,
  failures     INTEGER NOT NULL,
  locks        INTEGER NOT NULL,
  locked_until BIGINT NOT NULL,
  last_failure BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);
CREATE INDEX login_failures_last_failure ON login_failures(last_failure);
