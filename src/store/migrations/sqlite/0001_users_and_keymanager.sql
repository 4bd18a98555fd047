-- Users, roles, OAuth clients, signing keys and token state of the Key Manager.
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);

CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role    TEXT NOT NULL,
  PRIMARY KEY (user_id, role)
);

CREATE TABLE oauth_clients (
  client_id             TEXT PRIMARY KEY,
  secret_hash           TEXT NOT NULL,
  name                  TEXT NOT NULL,
  owner                 TEXT NOT NULL,
  grant_types           TEXT NOT NULL,
  redirect_uris         TEXT NOT NULL,
  token_type            TEXT NOT NULL,
  public_client         INTEGER NOT NULL,
  application_id        TEXT NOT NULL,
  application_name      TEXT NOT NULL,
  application_tier      TEXT NOT NULL,
  key_type              TEXT NOT NULL,
  access_token_lifetime INTEGER NOT NULL,
  created_at            INTEGER NOT NULL
);

CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,
  algorithm   TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER NOT NULL,
  keep_until  INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  scope      TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used       INTEGER NOT NULL,
  revoked    INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE authorization_codes (
  code_hash      TEXT PRIMARY KEY,
  client_id      TEXT NOT NULL,
  subject        TEXT NOT NULL,
  redirect_uri   TEXT NOT NULL,
  scope          TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at     INTEGER NOT NULL
);

CREATE TABLE opaque_tokens (
  token_hash TEXT PRIMARY KEY,
  jti        TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  scope      TEXT NOT NULL,
  key_type   TEXT NOT NULL,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL
);

CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
);
