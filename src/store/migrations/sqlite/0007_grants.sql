-- Grants that end: what revoking a user's tokens, a replayed code's tokens and a client's
-- REST API scopes needs.

-- Access tokens issued to users (password, authorization-code and refresh grants), JWT or
-- opaque, by jti: deleting a user, changing their password or replaying the code of a grant
-- revokes them (their jtis reach gateways as revocations). `family_id` is the grant: the
-- refresh-token family, or the authorization code, the token descends from. Application
-- tokens (client_credentials) stand for the application and stay stateless.
CREATE TABLE user_access_tokens (
  jti        TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX user_access_tokens_subject ON user_access_tokens(subject);
CREATE INDEX user_access_tokens_family ON user_access_tokens(family_id);
CREATE INDEX refresh_tokens_subject ON refresh_tokens(subject);

-- An authorization code is kept, marked used, until it expires, so that a replay is told
-- from an unknown code (RFC 6749 §4.1.2): 0 unused, 1 used, 2 replayed. `family_id` names
-- the grant its tokens belong to.
ALTER TABLE authorization_codes ADD COLUMN used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE authorization_codes ADD COLUMN family_id TEXT NOT NULL DEFAULT '';

-- APPLICATION or APPLICATION_USER, as the JWTs' `aut` claim: introspection answers it so
-- that a resource's authType works for opaque tokens. Tokens stored before are taken for
-- application tokens, as the gateway took them.
ALTER TABLE opaque_tokens ADD COLUMN user_type TEXT NOT NULL DEFAULT 'APPLICATION';
CREATE INDEX opaque_tokens_jti ON opaque_tokens(jti);

-- REST API scopes (apim:*) go only to clients an administrator trusts. Clients registered
-- before by an administrator keep what they had.
ALTER TABLE oauth_clients ADD COLUMN trusted INTEGER NOT NULL DEFAULT 0;
UPDATE oauth_clients SET trusted = 1 WHERE owner IN (
  SELECT u.username FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'admin');
