#pragma once
// The Publisher's insides, shared by its route files (not part of its door, publisher.h).
#include <boost/json.hpp>

#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "admin/admin.h"
#include "common/backend_address_policy.h"
#include "common/clock.h"
#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "http/multipart.h"
#include "keymanager/keymanager.h"
#include "publisher/publisher.h"
#include "store/api_documents_repository.h"
#include "store/api_revisions_repository.h"
#include "store/api_scopes_repository.h"
#include "store/apis_repository.h"

namespace portico::publisher {

namespace json = boost::json;

inline constexpr std::string_view kBase = "/api/am/publisher/v4";
inline constexpr std::int64_t kMaxRevisions = 5;  // per API, as the reference
inline constexpr std::size_t kMaxThumbnailBytes = 1024 * 1024;
inline constexpr std::size_t kMaxDocumentContentBytes = 5 * 1024 * 1024;

struct Publisher::Impl {
  Impl(const Config& config, store::Database& db, events::EventBus& bus,
       keymanager::KeyManager& key_manager, admin::Admin& admin);

  const Config& config;
  store::Database& db;
  events::EventBus& bus;
  keymanager::KeyManager& key_manager;
  admin::Admin& admin;
  store::ApisRepository apis;
  // Which API owns each scope name, shared by the cluster (key managers read it too).
  store::ApiScopesRepository api_scopes;
  store::ApiRevisionsRepository revisions;
  store::ApiDocumentsRepository documents;
  // Which backend addresses an API's endpoints may name (docs/security.md).
  BackendAddressPolicy backend_policy;

  // The caller, who must hold one of `scopes`: 401 or 403 otherwise.
  keymanager::Principal authorize(const http::Request& request,
                                  std::initializer_list<std::string_view> scopes);
  // The API or ApiError 404.
  store::ApiRecord require_api(const std::string& id);
  // The API, when `who` may change it: its provider, or a holder of the admin or publisher
  // role. ApiError 404 when there is no such API, 403 when it is another provider's.
  store::ApiRecord require_changeable_api(const keymanager::Principal& who, const std::string& id);
  // Stores the scopes `api` defines as `api_id`'s, without a check (a copy of an API's own).
  void store_scopes(const std::string& api_id, const json::object& api);
  // Takes the scope names `api` defines for `api_id`: ApiError 409 (the reference's 900988)
  // when another API (not another version of this one by the same provider) defines one that
  // `before` (the stored version being changed; null on create) did not define. Checked and
  // stored under one cluster-wide lock, so two nodes cannot both take a free name.
  void claim_scopes(const std::string& api_id, const json::object& api, const json::object* before);
  // Forgets the scopes of `api_id` (deleted, or not stored after all).
  void release_scopes(const std::string& api_id);
  // Tells every key manager that `api_id`'s scopes changed.
  void scopes_changed(const std::string& api_id);
  void publish(std::string_view type, const json::object& payload);
  // Unsets isDefaultVersion on the other versions of `name`.
  void clear_default_versions(const std::string& name, const std::string& except_id);
  // Stores a new API: its scope names claimed first (released again when the API is not
  // stored), 409 when its name or context and version are taken.
  void insert_api(const store::ApiRecord& record, const json::object& api);
  // Stores a changed API over `current` (whose JSON is `before`), its scopes claimed first;
  // 409 when it changed meanwhile (its scopes are then those of `before` again).
  void update_api(const store::ApiRecord& record, const json::object& api,
                  const json::object& before, const store::ApiRecord& current);

  // Builds the API's stored JSON from a request body: on create from defaults, on update over
  // the stored one (name, version, context and provider cannot change). Validates every field.
  json::object apply_api_fields(const json::object& body, const json::object* existing);
  // The record for a validated API JSON.
  static store::ApiRecord record_of(const json::object& api);
  // An API without an imported definition gets one generated from its operations, so that
  // every reader of the stored definition (developer portal, gateways) finds one.
  static void ensure_definition(store::ApiRecord& record, const json::object& api);

  void add_api_routes(http::Router& router);
  void add_lifecycle_routes(http::Router& router);
  void add_content_routes(http::Router& router);
};

// Helpers shared by the route files.
std::string millis_text(std::int64_t unix_seconds);
http::Response json_response(int status, const json::value& body);
json::object parse_document(const std::string& text);
std::string string_at(const json::object& o, std::string_view key);
// The parts of a multipart/form-data request; ApiError 400 when it is not one.
std::vector<http::FormPart> multipart_parts(const http::Request& request);
std::string required_query(const http::Request& request, const std::string& name);
// Runs a handler, turning storage errors into the reference's error bodies.
http::Response guarded(const std::function<http::Response()>& handler);
// A 400 carrying a list of problems in the reference's `error` array.
http::Response error_list_response(std::string_view description,
                                   const std::vector<std::string>& problems);
bool valid_http_url(std::string_view url);

}  // namespace portico::publisher
