-- Indexes in the order each list pages by, so that a page (LIMIT/OFFSET) walks an index
-- instead of sorting the whole table: with 100,000 subscriptions a sort per request cost
-- over 100 ms. `id` ends each key because every list breaks ties by id.

-- Publisher GET /apis (default sort: createdTime) and the developer portal's catalog.
CREATE INDEX apis_created_id ON apis(created_time, id);
CREATE INDEX apis_name_version_id ON apis(name, version, id);

-- Publisher GET /subscriptions, all or of one API; developer portal, of one application.
CREATE INDEX subscriptions_created_id ON subscriptions(created_time, id);
CREATE INDEX subscriptions_api_created_id ON subscriptions(api_id, created_time, id);
CREATE INDEX subscriptions_application_created_id
  ON subscriptions(application_id, created_time, id);
