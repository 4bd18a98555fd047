-- The control plane: APIs and their revisions, deployments, lifecycle and documents
-- (publisher); applications, key mappings, subscriptions, ratings and comments
-- (developer portal); throttling policies, deny policies and gateway environments (admin).
-- Each aggregate keeps the columns it is searched, joined or constrained by; the rest of
-- its REST representation is stored whole as JSON in `document`.

CREATE TABLE apis (
  id                TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  version           TEXT NOT NULL,
  context           TEXT NOT NULL,
  provider          TEXT NOT NULL,
  lifecycle_status  TEXT NOT NULL,
  visibility        TEXT NOT NULL,
  is_default_version BIGINT NOT NULL,
  description       TEXT NOT NULL,
  document          TEXT NOT NULL,
  openapi           TEXT NOT NULL,
  thumbnail_type    TEXT NOT NULL,
  thumbnail         TEXT NOT NULL,
  created_time      BIGINT NOT NULL,
  updated_time      BIGINT NOT NULL,
  UNIQUE (name, version),
  UNIQUE (context, version)
);
CREATE INDEX apis_status ON apis(lifecycle_status);
CREATE INDEX apis_name ON apis(name);

CREATE TABLE api_tags (
  api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  tag    TEXT NOT NULL,
  PRIMARY KEY (api_id, tag)
);
CREATE INDEX api_tags_tag ON api_tags(tag);

-- The subscription tiers (throttling policy names) an API offers.
CREATE TABLE api_subscription_policies (
  api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  policy TEXT NOT NULL,
  PRIMARY KEY (api_id, policy)
);
CREATE INDEX api_subscription_policies_policy ON api_subscription_policies(policy);

CREATE TABLE api_lifecycle_history (
  id             TEXT PRIMARY KEY,
  api_id         TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  previous_state TEXT NOT NULL,
  post_state     TEXT NOT NULL,
  username       TEXT NOT NULL,
  updated_time   BIGINT NOT NULL
);
CREATE INDEX api_lifecycle_history_api ON api_lifecycle_history(api_id, updated_time);

CREATE TABLE api_revisions (
  id              TEXT PRIMARY KEY,
  api_id          TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  revision_number BIGINT NOT NULL,
  description     TEXT NOT NULL,
  document        TEXT NOT NULL,
  openapi         TEXT NOT NULL,
  created_time    BIGINT NOT NULL,
  UNIQUE (api_id, revision_number)
);

CREATE TABLE api_deployments (
  api_id               TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  revision_id          TEXT NOT NULL REFERENCES api_revisions(id) ON DELETE CASCADE,
  environment          TEXT NOT NULL,
  vhost                TEXT NOT NULL,
  display_on_devportal BIGINT NOT NULL,
  deployed_time        BIGINT NOT NULL,
  PRIMARY KEY (api_id, environment)
);
CREATE INDEX api_deployments_environment ON api_deployments(environment);

CREATE TABLE api_documents (
  id             TEXT PRIMARY KEY,
  api_id         TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  document       TEXT NOT NULL,
  content        TEXT NOT NULL,
  created_time   BIGINT NOT NULL,
  UNIQUE (api_id, name)
);

CREATE TABLE applications (
  id                TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  owner             TEXT NOT NULL,
  throttling_policy TEXT NOT NULL,
  token_type        TEXT NOT NULL,
  status            TEXT NOT NULL,
  document          TEXT NOT NULL,
  created_time      BIGINT NOT NULL,
  updated_time      BIGINT NOT NULL,
  UNIQUE (owner, name)
);

CREATE TABLE application_key_mappings (
  id             TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  key_type       TEXT NOT NULL,
  client_id      TEXT NOT NULL,
  document       TEXT NOT NULL,
  created_time   BIGINT NOT NULL,
  UNIQUE (application_id, key_type),
  UNIQUE (client_id)
);

CREATE TABLE subscriptions (
  id                TEXT PRIMARY KEY,
  application_id    TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  api_id            TEXT NOT NULL REFERENCES apis(id),
  throttling_policy TEXT NOT NULL,
  status            TEXT NOT NULL,
  created_time      BIGINT NOT NULL,
  updated_time      BIGINT NOT NULL,
  UNIQUE (application_id, api_id)
);
CREATE INDEX subscriptions_api ON subscriptions(api_id);

CREATE TABLE api_ratings (
  api_id   TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  username TEXT NOT NULL,
  rating   BIGINT NOT NULL,
  PRIMARY KEY (api_id, username)
);

CREATE TABLE api_comments (
  id           TEXT PRIMARY KEY,
  api_id       TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
  username     TEXT NOT NULL,
  content      TEXT NOT NULL,
  created_time BIGINT NOT NULL
);
CREATE INDEX api_comments_api ON api_comments(api_id, created_time);

CREATE TABLE throttling_policies (
  id           TEXT PRIMARY KEY,
  level        TEXT NOT NULL,
  name         TEXT NOT NULL,
  document     TEXT NOT NULL,
  created_time BIGINT NOT NULL,
  UNIQUE (level, name)
);

CREATE TABLE deny_policies (
  id              TEXT PRIMARY KEY,
  condition_type  TEXT NOT NULL,
  condition_value TEXT NOT NULL,
  enabled         BIGINT NOT NULL,
  created_time    BIGINT NOT NULL
);

CREATE TABLE gateway_environments (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  document     TEXT NOT NULL,
  created_time BIGINT NOT NULL
);
