#pragma once
// The Developer Portal's internals, shared by its handler files (signup and policies,
// discovery, applications and keys, subscriptions). Not a door: other components include
// devportal.h only.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "admin/admin.h"
#include "common/api_error.h"
#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/api_feedback_repository.h"
#include "store/applications_repository.h"
#include "store/catalog_repository.h"
#include "store/database.h"
#include "store/subscriptions_repository.h"
#include "store/tokens_repository.h"

namespace portico::devportal {

namespace json = boost::json;

inline constexpr std::string_view kBasePath = "/api/am/devportal/v3";
inline constexpr std::string_view kResidentKeyManager = "Resident Key Manager";

// REST scopes of the reference's devportal API.
inline constexpr std::string_view kScopeSubscribe = "apim:subscribe";
inline constexpr std::string_view kScopeAppManage = "apim:app_manage";
inline constexpr std::string_view kScopeSubManage = "apim:sub_manage";
inline constexpr std::string_view kScopeApiKey = "apim:api_key";

// Roles of the Key Manager's user store that the portal names.
inline constexpr std::string_view kRoleSubscriber = "subscriber";
inline constexpr std::string_view kRoleAdmin = "admin";

// Who is reading the catalog: nobody (anonymous) or an authenticated principal.
using Viewer = std::optional<keymanager::Principal>;

http::Response json_response(int status, const json::value& value);

struct DevPortalState {
  DevPortalState(const Config& config, store::Database& db, events::EventBus& bus,
                 keymanager::KeyManager& key_manager, admin::Admin& admin)
      : config(config),
        db(db),
        bus(bus),
        km(key_manager),
        admin(admin),
        applications(db),
        subscriptions(db),
        catalog(db),
        feedback(db),
        tokens(db) {}

  const Config& config;
  store::Database& db;
  events::EventBus& bus;
  keymanager::KeyManager& km;
  admin::Admin& admin;
  store::ApplicationsRepository applications;
  store::SubscriptionsRepository subscriptions;
  store::CatalogRepository catalog;
  store::ApiFeedbackRepository feedback;
  store::TokensRepository tokens;

  // The caller when the request carries credentials (invalid ones are refused with 401),
  // nobody otherwise: the catalog's public part is readable anonymously.
  Viewer viewer(const http::Request& request);
  // Whether the viewer may see the API in the portal (state and visibility).
  static bool visible(const store::CatalogApi& api, const Viewer& viewer);
  // The API when the viewer may see it; 404 otherwise (hidden APIs do not exist for them).
  store::CatalogApi visible_api(const std::string& api_id, const Viewer& viewer);
  // The reference's APIInfo (list item) and API (detail) shapes.
  json::object api_info(const store::CatalogApi& api);
  // api_info of each API of a list page: tiers and ratings in one query each, not per API.
  std::vector<json::object> api_infos(const std::vector<store::CatalogApi>& apis);
  json::object api_detail(const store::CatalogApi& api);
  // The caller's application; 404 when it does not exist or belongs to someone else.
  store::ApplicationRecord owned_application(const std::string& id, const std::string& owner);
  json::object application_json(const store::ApplicationRecord& app, bool with_keys);
  void publish(std::string_view type, const json::object& payload);
};

// The reference's search syntax: "name:pets tags:animals free text" (also tag:, provider:,
// version:, context:, description:, status:), over the portal's states. ApiError 400 on an
// unknown prefix or a query longer than 256 characters.
store::CatalogSearch parse_search_query(const std::string& query);

// Route registration of each handler file.
void register_signup_routes(DevPortalState& state, http::Router& router);
void register_discovery_routes(DevPortalState& state, http::Router& router);
void register_application_routes(DevPortalState& state, http::Router& router);
void register_subscription_routes(DevPortalState& state, http::Router& router);

}  // namespace portico::devportal
