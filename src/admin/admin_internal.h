#pragma once
// The Admin component's insides, shared by its .cpp files (one per REST area). Not a door:
// other components include admin/admin.h only.
#include <boost/json/object.hpp>

#include <functional>
#include <string>

#include "admin/admin.h"
#include "events/event_feed.h"
#include "store/cluster_secrets_repository.h"
#include "store/deny_policies_repository.h"
#include "store/environments_repository.h"
#include "store/gateway_credentials_repository.h"
#include "store/gateway_data_repository.h"
#include "store/throttling_policies_repository.h"
#include "store/tokens_repository.h"

namespace portico::admin {

inline constexpr std::string_view kAdminBase = "/api/am/admin/v4";
inline constexpr std::string_view kDefaultEnvironment = "Default";
// No Admin body comes near this (a policy with 20 groups of 20 conditions is ~100 KiB); the
// server's own limit is for the publisher's OpenAPI uploads.
inline constexpr std::size_t kMaxBodyBytes = 256 * 1024;

struct Admin::Impl {
  Impl(const Config& config, store::Database& db, events::EventBus& bus,
       keymanager::KeyManager& key_manager)
      : config(config),
        db(db),
        bus(bus),
        key_manager(key_manager),
        policies(db),
        deny_policies(db),
        environments(db),
        gateway_data(db),
        tokens(db),
        cluster_secrets(db),
        gateway_credentials(db) {}

  const Config& config;
  store::Database& db;
  events::EventBus& bus;
  keymanager::KeyManager& key_manager;
  store::ThrottlingPoliciesRepository policies;
  store::DenyPoliciesRepository deny_policies;
  store::EnvironmentsRepository environments;
  store::GatewayDataRepository gateway_data;
  store::TokensRepository tokens;
  store::ClusterSecretsRepository cluster_secrets;
  store::GatewayCredentialsRepository gateway_credentials;
  // What GET /internal/data/v1/events serves; made with the internal routes.
  std::unique_ptr<events::EventFeed> event_feed;

  void seed_policies();
  void seed_environment();

  void add_policy_routes(http::Router& router);
  void add_deny_policy_routes(http::Router& router);
  void add_environment_routes(http::Router& router);
  void add_scim_routes(http::Router& router);
  void add_oauth_client_routes(http::Router& router);
  void add_internal_routes(http::Router& router);
  void add_gateway_credential_routes(http::Router& router);

  void publish(std::string_view type, const boost::json::object& payload);
  // The caller, who must hold `scope` or apim:admin: the reference's Admin API lists both
  // for every operation, so a token issued for apim:admin alone works everywhere.
  keymanager::Principal authorize(const http::Request& request, std::string_view scope);
};

// The handler, with bodies over kMaxBodyBytes refused (413) and storage failures mapped to the
// reference's shapes: a lost database is 503 (the client may retry), not the router's 500.
http::Handler guarded(http::Handler handler);

http::Response json_response(int status, const boost::json::value& body);
// 200 with no body, as the reference answers a DELETE.
http::Response empty_ok();

// REST representations of stored rows (also what the internal data API serves).
boost::json::object policy_json(PolicyLevel level, const store::ThrottlingPolicyRecord& record);
boost::json::object deny_policy_json(const store::DenyPolicyRecord& record);
boost::json::object environment_json(const store::EnvironmentRecord& record);

}  // namespace portico::admin
