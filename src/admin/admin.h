#pragma once
// The Admin component: throttling policies (subscription, application, advanced), deny
// policies, gateway environments and user management (SCIM 2.0 subset), under
// /api/am/admin/v4 and /scim2. Other components use this header only.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::admin {

enum class PolicyLevel { subscription, application, advanced };

// A virtual host of an environment, as the admin REST API stores it: the address its
// gateways are reached at (behind a load balancer, that balancer's address).
struct VirtualHost {
  std::string host;
  std::string http_context;  // "" or "/gw": a path before every API's context
  int http_port = 80;
  int https_port = 443;

  // "http://host:port/gw", "https://host/gw": the reference's VHost URLs (a scheme's
  // default port left out); an API's URL is this followed by its context and version.
  std::string http_url() const;
  std::string https_url() const;
};

struct Environment {
  std::string id;
  std::string name;
  std::string display_name;
  std::vector<VirtualHost> vhosts;  // at least one; the first is the default

  // The virtual host named `host`, or the default one when it has none of that name.
  const VirtualHost& vhost(std::string_view host) const;
};

class Admin {
 public:
  Admin(const Config& config, store::Database& db, events::EventBus& bus,
        keymanager::KeyManager& key_manager);
  ~Admin();

  // First start: the reference's default policies and the "Default" environment.
  void initialize();
  void register_routes(http::Router& router);

  // For the publisher and the developer portal.
  bool policy_exists(PolicyLevel level, const std::string& name);
  // Policies of a level in the reference's throttling-policy list shape (publisher
  // GET /throttling-policies/{policyLevel}, devportal GET /throttling-policies/{policyLevel}).
  boost::json::array policy_summaries(PolicyLevel level);
  std::optional<Environment> find_environment(const std::string& name);
  std::vector<Environment> environments();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::admin
