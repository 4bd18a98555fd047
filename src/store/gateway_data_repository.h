#pragma once
// What gateways pull from the control plane (the internal data API), read straight from the
// tables the publisher and developer portal write. Read-only, and paged by key (`after` the
// last id of the previous page) so a gateway streams 100k rows without anyone holding them
// all in memory, and a row inserted meanwhile never shifts a page.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct GatewaySubscription {
  std::string id;
  std::string application_id;
  std::string api_id;
  std::string throttling_policy;
  std::string status;
  std::int64_t created_time = 0;
  std::int64_t updated_time = 0;
};

struct GatewayApplication {
  std::string id;
  std::string name;
  std::string owner;
  std::string throttling_policy;
  std::string token_type;
  std::string status;
  std::int64_t updated_time = 0;
};

struct GatewayKeyMapping {
  std::string id;
  std::string application_id;
  std::string key_type;
  std::string client_id;
};

// One API deployed to an environment with the revision it runs.
struct GatewayDeployment {
  std::string api_id;
  std::string revision_id;
  std::string environment;
  std::string vhost;
  bool display_on_devportal = false;
  std::int64_t deployed_time = 0;
  std::string document;  // the revision's API JSON
  std::string openapi;   // the revision's OpenAPI definition
  // The API's lifecycle state now (apis.lifecycle_status), not the one its revision was taken
  // in: a lifecycle change (BLOCKED, DEPRECATED, ...) makes no new revision.
  std::string lifecycle_status;
};

class GatewayDataRepository {
 public:
  explicit GatewayDataRepository(Database& db) : db_(db) {}

  std::vector<GatewaySubscription> subscriptions_after(const std::string& after, int limit);
  std::vector<GatewayApplication> applications_after(const std::string& after, int limit);
  std::vector<GatewayKeyMapping> key_mappings_after(const std::string& after, int limit);

  // Per-item reads: what a gateway re-reads when an event names an item, or when a call
  // names a credential or subscription its snapshot does not know yet.
  std::optional<GatewaySubscription> subscription(const std::string& id);
  std::optional<GatewayApplication> application(const std::string& id);
  std::vector<GatewaySubscription> subscriptions_of(const std::string& application_id);
  std::vector<GatewayKeyMapping> key_mappings_of(const std::string& application_id);
  std::optional<GatewayKeyMapping> key_mapping_by_client(const std::string& client_id);
  // Deployments to `environment` whose api_id > `after`, in api_id order.
  std::vector<GatewayDeployment> deployments_after(const std::string& environment,
                                                   const std::string& after, int limit);
  // API `api_id`'s deployment to `environment`, if it has one.
  std::optional<GatewayDeployment> deployment(const std::string& environment,
                                              const std::string& api_id);

 private:
  Database& db_;
};

}  // namespace portico::store
