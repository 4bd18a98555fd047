#include "publisher/publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "events/event_types.h"
#include "http/paging.h"
#include "http/redirect.h"
#include "keymanager/scopes.h"
#include "publisher/lifecycle.h"
#include "publisher/openapi.h"
#include "publisher/runtime_fields.h"
#include "publisher/service.h"

namespace portico::publisher {

// ---- helpers -------------------------------------------------------------------------------

// The reference gives an API's times as epoch milliseconds in a string.
std::string millis_text(std::int64_t unix_seconds) {
  return std::to_string(unix_seconds * 1000);
}

http::Response json_response(int status, const json::value& body) {
  return http::Response::json(status, json::serialize(body));
}

json::object parse_document(const std::string& text) {
  if (text.empty()) return {};
  json::value v = json::parse(text);
  return v.is_object() ? v.get_object() : json::object{};
}

std::string string_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<http::FormPart> multipart_parts(const http::Request& request) {
  auto type = request.headers.get("Content-Type");
  auto boundary = type ? http::multipart_boundary(*type) : std::nullopt;
  if (!boundary) throw ApiError::bad_request("the request body must be multipart/form-data");
  auto parts = http::parse_multipart(request.body, *boundary);
  if (!parts) throw ApiError::bad_request("the multipart/form-data body is malformed");
  return std::move(*parts);
}

std::string required_query(const http::Request& request, const std::string& name) {
  auto v = request.query_param(name);
  if (!v || v->empty()) throw ApiError::bad_request("query parameter '" + name + "' is required");
  if (v->size() > 1024) throw ApiError::bad_request("query parameter '" + name + "' is too long");
  return *v;
}

http::Response guarded(const std::function<http::Response()>& handler) {
  try {
    return handler();
  } catch (const store::ConflictError& e) {
    throw ApiError::conflict(e.what());
  } catch (const store::UnavailableError& e) {
    spdlog::error("publisher: database unavailable: {}", e.what());
    throw ApiError(503, 503, "Service Unavailable", "the database is unavailable");
  }
}

http::Response error_list_response(std::string_view description,
                                   const std::vector<std::string>& problems) {
  json::object body;
  body["code"] = 400;
  body["message"] = "Bad Request";
  body["description"] = description;
  json::array list;
  for (const auto& p : problems) {
    json::object item;
    item["code"] = "400";
    item["message"] = p;
    list.push_back(std::move(item));
  }
  body["error"] = std::move(list);
  return json_response(400, body);
}

bool valid_http_url(std::string_view url) {
  return http::is_http_url(url);
}

// ---- Impl ----------------------------------------------------------------------------------

namespace {

// The API that owns a scope name: its versions by the same provider share its scopes. A
// newline appears in neither an API name nor a user name.
std::string scope_owner(const json::object& api) {
  return string_at(api, "name") + "\n" + string_at(api, "provider");
}

// The scopes an API's JSON defines, with the roles each is bound to.
store::ScopeBindings defined_scopes(const json::object& api) {
  store::ScopeBindings names;
  const json::value* list = api.if_contains("scopes");
  if (list == nullptr || !list->is_array()) return names;
  for (const auto& entry : list->get_array()) {
    if (!entry.is_object()) continue;
    auto* scope = entry.get_object().if_contains("scope");
    if (scope == nullptr || !scope->is_object()) continue;
    std::string name = string_at(scope->get_object(), "name");
    std::vector<std::string> roles;
    if (auto* bindings = scope->get_object().if_contains("bindings");
        bindings && bindings->is_array())
      for (const auto& role : bindings->get_array())
        if (role.is_string()) roles.emplace_back(role.get_string());
    if (!name.empty()) names.emplace_back(std::move(name), std::move(roles));
  }
  return names;
}

}  // namespace

Publisher::Impl::Impl(const Config& config, store::Database& db, events::EventBus& bus,
                      keymanager::KeyManager& key_manager, admin::Admin& admin)
    : config(config),
      db(db),
      bus(bus),
      key_manager(key_manager),
      admin(admin),
      apis(db),
      api_scopes(db),
      revisions(db),
      documents(db),
      backend_policy(BackendAddressPolicy::from_config(config)) {
  // APIs stored before the scope table existed get their rows (nodes may do it at once).
  for (const auto& [id, document] : apis.all_documents()) {
    try {
      json::object api = parse_document(document);
      api_scopes.insert_if_none(id, scope_owner(api), defined_scopes(api));
    } catch (const std::exception& e) {
      spdlog::warn("publisher: API {} has an unreadable document: {}", id, e.what());
    }
  }
}

keymanager::Principal Publisher::Impl::authorize(const http::Request& request,
                                                 std::initializer_list<std::string_view> wanted) {
  keymanager::Principal p = key_manager.authenticate(request);
  for (auto scope : wanted)
    if (p.has_scope(scope)) return p;
  std::string names;
  for (auto scope : wanted) names += (names.empty() ? "" : " or ") + std::string(scope);
  throw ApiError::forbidden("the operation needs the scope " + names);
}

store::ApiRecord Publisher::Impl::require_api(const std::string& id) {
  if (id.size() > 64) throw ApiError::not_found("no API with id " + id.substr(0, 64));
  auto api = apis.find(id);
  if (!api) throw ApiError::not_found("no API with id " + id);
  return std::move(*api);
}

store::ApiRecord Publisher::Impl::require_changeable_api(const keymanager::Principal& who,
                                                         const std::string& id) {
  store::ApiRecord api = require_api(id);
  if (api.provider == who.username || who.has_role(keymanager::kRoleAdmin) ||
      who.has_role(keymanager::kRolePublisher))
    return api;
  throw ApiError::forbidden("only the API's provider, a publisher or an admin may change API " +
                            id);
}

void Publisher::Impl::store_scopes(const std::string& api_id, const json::object& api) {
  auto scopes = defined_scopes(api);
  int removed = api_scopes.replace(api_id, scope_owner(api), scopes);
  if (removed > 0 || !scopes.empty()) scopes_changed(api_id);
}

void Publisher::Impl::release_scopes(const std::string& api_id) {
  if (api_scopes.remove(api_id) > 0) scopes_changed(api_id);
}

void Publisher::Impl::claim_scopes(const std::string& api_id, const json::object& api,
                                   const json::object* before) {
  // Scopes the API already had stay its own: an API stored before names were unique keeps
  // working, and only a name it takes anew is checked.
  std::vector<std::string> kept;
  if (before != nullptr)
    for (auto& [name, roles] : defined_scopes(*before)) kept.push_back(name);
  auto scopes = defined_scopes(api);
  auto taken = api_scopes.claim(api_id, scope_owner(api), scopes, kept);
  // The reference's SCOPE_ALREADY_ASSIGNED, with the status a conflict has.
  if (taken)
    throw ApiError(409, 900988, "Scope already assigned locally by another API",
                   "Scope " + *taken + " is already assigned locally by another API");
  // An API without scopes, before or now, changes no key manager's view.
  if (!scopes.empty() || !kept.empty()) scopes_changed(api_id);
}

void Publisher::Impl::scopes_changed(const std::string& api_id) {
  // Every key manager of the cluster forgets the scope bindings it cached.
  publish(events::types::kApiScopesChanged, json::object{{"api_id", api_id}});
}

void Publisher::Impl::publish(std::string_view type, const json::object& payload) {
  bus.publish(std::string(type), json::serialize(payload));
}

void Publisher::Impl::insert_api(const store::ApiRecord& record, const json::object& api) {
  claim_scopes(record.id, api, nullptr);
  try {
    apis.create(record);
  } catch (const store::ConflictError&) {
    release_scopes(record.id);
    throw ApiError::conflict("an API with name '" + record.name + "' or context '" +
                             record.context + "' and version '" + record.version +
                             "' already exists");
  } catch (...) {
    release_scopes(record.id);
    throw;
  }
  if (record.is_default_version) clear_default_versions(record.name, record.id);
}

void Publisher::Impl::update_api(const store::ApiRecord& record, const json::object& api,
                                 const json::object& before, const store::ApiRecord& current) {
  claim_scopes(record.id, api, &before);
  bool updated = false;
  try {
    updated = apis.update(record, current.document);
  } catch (...) {
    store_scopes(record.id, before);
    throw;
  }
  if (!updated) {
    store_scopes(record.id, before);
    throw ApiError::conflict("the API changed meanwhile; read it again and retry");
  }
  if (record.is_default_version) clear_default_versions(record.name, record.id);
}

void Publisher::Impl::clear_default_versions(const std::string& name,
                                             const std::string& except_id) {
  for (const auto& [id, status] : apis.versions_of(name)) {
    if (id == except_id) continue;
    auto other = apis.find(id);
    if (!other || !other->is_default_version) continue;
    json::object doc = parse_document(other->document);
    doc["isDefaultVersion"] = false;
    other->document = json::serialize(doc);
    other->is_default_version = false;
    apis.update(*other);  // unconditional: only the flag changes, nothing is lost
  }
}

store::ApiRecord Publisher::Impl::record_of(const json::object& api) {
  store::ApiRecord r;
  r.id = string_at(api, "id");
  r.name = string_at(api, "name");
  r.version = string_at(api, "version");
  r.context = string_at(api, "context");
  r.provider = string_at(api, "provider");
  r.lifecycle_status = string_at(api, "lifeCycleStatus");
  r.visibility = string_at(api, "visibility");
  r.description = string_at(api, "description");
  auto* d = api.if_contains("isDefaultVersion");
  r.is_default_version = d != nullptr && d->is_bool() && d->get_bool();
  for (const char* key : {"tags", "policies"}) {
    auto* list = api.if_contains(key);
    if (list == nullptr || !list->is_array()) continue;
    for (const auto& v : list->get_array())
      if (v.is_string())
        (std::string_view(key) == "tags" ? r.tags : r.policies).emplace_back(v.get_string());
  }
  r.document = json::serialize(api);
  return r;
}

void Publisher::Impl::ensure_definition(store::ApiRecord& record, const json::object& api) {
  if (record.openapi.empty()) record.openapi = json::serialize(openapi::generate(api));
}

// ---- the API model -------------------------------------------------------------------------

namespace {

using namespace json_body;

constexpr std::string_view kNameForbidden = "~!@#;:%^*()+={}|\\<>\"',&$[]/";

void check_name(const std::string& name) {
  if (name.empty() || name.size() > 60)
    throw ApiError::bad_request("name must be 1 to 60 characters");
  if (name.find_first_of(kNameForbidden) != std::string::npos)
    throw ApiError::bad_request("name must not contain any of " + std::string(kNameForbidden));
  if (name.find_first_not_of(' ') == std::string::npos)
    throw ApiError::bad_request("name must not be blank");
}

void check_version(const std::string& version) {
  if (version.empty() || version.size() > 30)
    throw ApiError::bad_request("version must be 1 to 30 characters");
  for (unsigned char c : version)
    if (c <= 0x20 || kNameForbidden.find(static_cast<char>(c)) != std::string_view::npos)
      throw ApiError::bad_request("version holds a character it may not: '" +
                                  std::string(1, static_cast<char>(c)) + "'");
}

// "/pizza" from "pizza", "/pizza/" or "/pizza"; 400 for anything a route could not hold.
std::string normalize_context(std::string context) {
  if (context.empty() || context.size() > 232)
    throw ApiError::bad_request("context must be 1 to 232 characters");
  if (context[0] != '/') context.insert(0, "/");
  while (context.size() > 1 && context.back() == '/') context.pop_back();
  if (context == "/") throw ApiError::bad_request("context must not be just /");
  if (context.find("//") != std::string::npos)
    throw ApiError::bad_request("context must not contain //");
  for (unsigned char c : context) {
    bool ok = std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
              c == '{' || c == '}';
    if (!ok)
      throw ApiError::bad_request("context holds a character it may not: '" +
                                  std::string(1, static_cast<char>(c)) + "'");
  }
  return context;
}

json::array string_array(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.push_back(json::string(s));
  return a;
}

const std::set<std::string>& known_verbs() {
  static const std::set<std::string> v = {"GET",   "POST", "PUT",    "DELETE",
                                          "PATCH", "HEAD", "OPTIONS"};
  return v;
}

const std::vector<std::string_view> kAuthTypes = {"Application & Application User",
                                                  "Application User", "Application", "None", "Any"};

json::array default_operations() {
  json::array ops;
  for (const char* verb : {"GET", "PUT", "POST", "DELETE", "PATCH"}) {
    json::object op;
    op["target"] = "/*";
    op["verb"] = verb;
    op["authType"] = "Application & Application User";
    op["throttlingPolicy"] = "Unlimited";
    op["scopes"] = json::array{};
    op["operationPolicies"] = runtime_fields::no_operation_policies();
    ops.push_back(std::move(op));
  }
  return ops;
}

json::object default_cors() {
  json::object c;
  c["corsConfigurationEnabled"] = false;
  c["accessControlAllowOrigins"] = json::array{"*"};
  c["accessControlAllowCredentials"] = false;
  c["accessControlAllowHeaders"] = json::array{"authorization", "Access-Control-Allow-Origin",
                                               "Content-Type",  "SOAPAction",
                                               "apikey",        "Internal-Key"};
  c["accessControlAllowMethods"] = json::array{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"};
  return c;
}

// An endpoint, or for load balancing a list of 1 to 50, each validated and normalized.
json::value endpoint_or_list(const json::value& v, const std::string& where) {
  if (v.is_object()) return runtime_fields::endpoint(v, where);
  if (!v.is_array() || v.get_array().empty() || v.get_array().size() > 50)
    throw ApiError::bad_request(where + " must be an endpoint or a list of 1 to 50 endpoints");
  json::array out;
  for (const auto& e : v.get_array()) out.push_back(runtime_fields::endpoint(e, where + "[]"));
  return out;
}

json::object validate_endpoint_config(const json::object& config) {
  std::string type = required_string(config, "endpoint_type", 32);
  one_of("endpointConfig.endpoint_type", type, {"http", "load_balance", "failover"});
  json::object out;
  out["endpoint_type"] = type;
  bool any = false;
  for (const char* key : {"production_endpoints", "sandbox_endpoints"}) {
    auto* v = config.if_contains(key);
    if (v == nullptr || v->is_null()) continue;
    std::string where = std::string("endpointConfig.") + key;
    out[key] = type == "load_balance" ? endpoint_or_list(*v, where)
                                      : json::value(runtime_fields::endpoint(*v, where));
    any = true;
  }
  if (!any)
    throw ApiError::bad_request("endpointConfig needs production_endpoints or sandbox_endpoints");
  if (type == "failover") {
    for (const char* key : {"production_failovers", "sandbox_failovers"}) {
      auto* v = config.if_contains(key);
      if (v == nullptr || v->is_null()) continue;
      if (!v->is_array() || v->get_array().size() > 50)
        throw ApiError::bad_request(std::string("endpointConfig.") + key +
                                    " must be a list of at most 50 endpoints");
      json::array failovers;
      for (const auto& e : v->get_array())
        failovers.push_back(runtime_fields::endpoint(e, std::string("endpointConfig.") + key));
      out[key] = std::move(failovers);
    }
  }
  if (type == "load_balance") {
    for (const char* key : {"algoCombination", "algoClassName", "sessionManagement"}) {
      if (auto s = optional_string(config, key, 256)) out[key] = *s;
    }
    if (auto t = optional_int(config, "sessionTimeOut", -1, 86400)) out["sessionTimeOut"] = *t;
  }
  return out;
}

// Every endpoint URL of a validated endpointConfig against the backend address policy: 400
// naming the URL and the reason. The gateway checks again, on the resolved address.
void check_backend_addresses(const BackendAddressPolicy& policy, const json::object& config) {
  auto check = [&](const json::value& endpoint, const char* key) {
    if (!endpoint.is_object()) return;
    std::string url = string_at(endpoint.get_object(), "url");
    auto target = http_url_host_and_port(url);
    if (!target)
      throw ApiError::bad_request(std::string("endpointConfig.") + key + " URL '" + url +
                                  "' is not an http or https URL");
    if (auto refused = policy.refusal_for_host(target->host, target->port))
      throw ApiError::bad_request(std::string("endpointConfig.") + key + " URL '" + url +
                                  "' is not an allowed backend: " + *refused);
  };
  for (const char* key :
       {"production_endpoints", "sandbox_endpoints", "production_failovers", "sandbox_failovers"}) {
    const json::value* v = config.if_contains(key);
    if (v == nullptr) continue;
    if (v->is_array()) {
      for (const auto& e : v->get_array()) check(e, key);
    } else {
      check(*v, key);
    }
  }
}

json::object validate_cors(const json::object& c) {
  json::object out = default_cors();
  if (auto b = optional_bool(c, "corsConfigurationEnabled")) out["corsConfigurationEnabled"] = *b;
  if (auto b = optional_bool(c, "accessControlAllowCredentials"))
    out["accessControlAllowCredentials"] = *b;
  for (const char* key :
       {"accessControlAllowOrigins", "accessControlAllowHeaders", "accessControlAllowMethods"}) {
    if (auto list = optional_string_array(c, key, 100, 256)) out[key] = string_array(*list);
  }
  return out;
}

// The API's scopes: [{scope: {name, displayName, description, bindings}, shared}].
json::array validate_scopes(const json::array& scopes) {
  if (scopes.size() > 200) throw ApiError::bad_request("scopes holds more than 200 scopes");
  json::array out;
  std::set<std::string> seen;
  for (const auto& entry : scopes) {
    if (!entry.is_object()) throw ApiError::bad_request("scopes[] must be objects");
    const json::object* scope = optional_object(entry.get_object(), "scope");
    if (scope == nullptr) throw ApiError::bad_request("scopes[].scope is required");
    std::string name = required_string(*scope, "name", 255);
    if (!keymanager::is_valid_scope_token(name))
      throw ApiError::bad_request("scope name '" + name + "' is not a valid scope token");
    // Names the key manager grants by itself (default, openid) or by role (apim:*): an API
    // defining one would protect nothing, or hand it out by its own bindings.
    if (name == "default" || name == "openid" || keymanager::is_rest_api_scope(name))
      throw ApiError::bad_request("scope name '" + name +
                                  "' is reserved: default, openid and apim:* cannot be an API's");
    if (!seen.insert(name).second)
      throw ApiError::bad_request("scope '" + name + "' is defined twice");
    json::object s;
    s["name"] = name;
    s["displayName"] = optional_string(*scope, "displayName", 255).value_or(name);
    s["description"] = optional_string(*scope, "description", 512).value_or("");
    s["bindings"] = string_array(
        optional_string_array(*scope, "bindings", 50, 255).value_or(std::vector<std::string>{}));
    json::object item;
    item["scope"] = std::move(s);
    item["shared"] = false;
    out.push_back(std::move(item));
  }
  return out;
}

std::set<std::string> scope_names(const json::array& scopes) {
  std::set<std::string> names;
  for (const auto& e : scopes)
    names.insert(string_at(e.get_object().at("scope").get_object(), "name"));
  return names;
}

}  // namespace

json::object Publisher::Impl::apply_api_fields(const json::object& body,
                                               const json::object* existing) {
  json::object api;
  if (existing != nullptr) {
    api = *existing;
    // The identity of an API version: fixed once created.
    for (const char* key : {"name", "version", "provider"}) {
      if (auto v = optional_string(body, key, 255); v && *v != string_at(api, key))
        throw ApiError::bad_request(std::string("an API's ") + key + " cannot change");
    }
    if (auto v = optional_string(body, "context", 255);
        v && normalize_context(*v) != string_at(api, "context"))
      throw ApiError::bad_request("an API's context cannot change");
  } else {
    std::string name = required_string(body, "name", 255);
    check_name(name);
    std::string version = required_string(body, "version", 255);
    check_version(version);
    api["id"] = crypto::uuid_v4();
    api["name"] = name;
    api["description"] = "";
    api["context"] = normalize_context(required_string(body, "context", 255));
    api["version"] = version;
    api["provider"] = "";
    api["lifeCycleStatus"] = lifecycle::kCreated;
    api["type"] = "HTTP";
    api["transport"] = json::array{"http", "https"};
    api["tags"] = json::array{};
    api["policies"] = json::array{};
    api["apiThrottlingPolicy"] = nullptr;
    api["authorizationHeader"] = "Authorization";
    // The reference's API key header and query parameter; header names match in any case.
    api["apiKeyHeader"] = "apikey";
    api["enableApiKeyQueryParam"] = false;
    api["maxTps"] = nullptr;
    api["securityScheme"] = json::array{"oauth2", "oauth_basic_auth_api_key_mandatory"};
    api["visibility"] = "PUBLIC";
    api["visibleRoles"] = json::array{};
    api["isDefaultVersion"] = false;
    api["endpointConfig"] = nullptr;
    api["corsConfiguration"] = default_cors();
    api["businessInformation"] = json::object{};
    api["additionalProperties"] = json::array{};
    api["scopes"] = json::array{};
    api["operations"] = default_operations();
    api["hasThumbnail"] = false;
  }

  if (auto d = optional_string(body, "description", 32766)) api["description"] = *d;
  if (auto t = optional_string(body, "type", 32)) {
    if (*t != "HTTP")
      throw ApiError::bad_request("type '" + *t + "' is not supported: Portico serves HTTP APIs");
  }
  if (auto transport = optional_string_array(body, "transport", 2, 8)) {
    if (transport->empty()) throw ApiError::bad_request("transport must name http or https");
    for (const auto& t : *transport) one_of("transport", t, {"http", "https"});
    api["transport"] = string_array(*transport);
  }
  if (auto tags = optional_string_array(body, "tags", 50, 100)) {
    for (const auto& t : *tags)
      if (t.empty() || t.find_first_of(",\r\n") != std::string::npos)
        throw ApiError::bad_request("a tag must be non-empty and hold no comma or line break");
    api["tags"] = string_array(*tags);
  }
  if (auto policies = optional_string_array(body, "policies", 50, 60)) {
    for (const auto& p : *policies)
      if (!admin.policy_exists(admin::PolicyLevel::subscription, p))
        throw ApiError::bad_request("subscription policy '" + p + "' does not exist");
    api["policies"] = string_array(*policies);
  }
  if (auto* v = body.if_contains("apiThrottlingPolicy")) {
    if (v->is_null()) {
      api["apiThrottlingPolicy"] = nullptr;
    } else {
      std::string p = required_string(body, "apiThrottlingPolicy", 60);
      if (!admin.policy_exists(admin::PolicyLevel::advanced, p))
        throw ApiError::bad_request("advanced throttling policy '" + p + "' does not exist");
      api["apiThrottlingPolicy"] = p;
    }
  }
  // APIs stored before these fields existed get their defaults on their next write.
  if (!api.contains("enableApiKeyQueryParam")) api["enableApiKeyQueryParam"] = false;
  if (!api.contains("maxTps")) api["maxTps"] = nullptr;
  for (const char* key : {"authorizationHeader", "apiKeyHeader"}) {
    if (auto h = optional_string(body, key, 1024)) {
      runtime_fields::check_header_name(*h, key);
      api[key] = *h;
    }
  }
  {
    auto lower = [](std::string v) {
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return v;
    };
    // One header cannot carry both an OAuth token and an API key.
    if (lower(string_at(api, "authorizationHeader")) == lower(string_at(api, "apiKeyHeader")))
      throw ApiError::bad_request("apiKeyHeader must differ from authorizationHeader");
  }
  if (auto b = optional_bool(body, "enableApiKeyQueryParam")) api["enableApiKeyQueryParam"] = *b;
  if (auto* v = body.if_contains("maxTps")) api["maxTps"] = runtime_fields::max_tps(*v);
  if (auto schemes = optional_string_array(body, "securityScheme", 10, 64)) {
    for (const auto& s : *schemes)
      one_of("securityScheme", s,
             {"oauth2", "api_key", "basic_auth", "oauth_basic_auth_api_key_mandatory"});
    bool has_auth = std::any_of(schemes->begin(), schemes->end(), [](const std::string& s) {
      return s == "oauth2" || s == "api_key" || s == "basic_auth";
    });
    if (!has_auth)
      throw ApiError::bad_request("securityScheme must include oauth2, api_key or basic_auth");
    api["securityScheme"] = string_array(*schemes);
  }
  if (auto vis = optional_string(body, "visibility", 16)) {
    one_of("visibility", *vis, {"PUBLIC", "PRIVATE", "RESTRICTED"});
    api["visibility"] = *vis;
  }
  if (auto roles = optional_string_array(body, "visibleRoles", 50, 255))
    api["visibleRoles"] = string_array(*roles);
  if (string_at(api, "visibility") == "RESTRICTED" && api["visibleRoles"].get_array().empty())
    throw ApiError::bad_request("visibility RESTRICTED needs visibleRoles");
  if (auto d = optional_bool(body, "isDefaultVersion")) api["isDefaultVersion"] = *d;
  if (auto* v = body.if_contains("endpointConfig")) {
    if (v->is_null())
      api["endpointConfig"] = nullptr;
    else if (!v->is_object())
      throw ApiError::bad_request("endpointConfig must be an object");
    else
      api["endpointConfig"] = validate_endpoint_config(v->get_object());
    if (api["endpointConfig"].is_object())
      check_backend_addresses(backend_policy, api["endpointConfig"].get_object());
  }
  if (auto* v = body.if_contains("corsConfiguration")) {
    if (!v->is_object()) throw ApiError::bad_request("corsConfiguration must be an object");
    api["corsConfiguration"] = validate_cors(v->get_object());
  }
  if (auto* v = body.if_contains("businessInformation")) {
    if (!v->is_object()) throw ApiError::bad_request("businessInformation must be an object");
    json::object info;
    for (const char* key :
         {"businessOwner", "businessOwnerEmail", "technicalOwner", "technicalOwnerEmail"}) {
      if (auto s = optional_string(v->get_object(), key, 255)) info[key] = *s;
    }
    api["businessInformation"] = std::move(info);
  }
  if (auto* v = body.if_contains("additionalProperties")) {
    if (!v->is_array() || v->get_array().size() > 50)
      throw ApiError::bad_request("additionalProperties must be a list of at most 50 entries");
    json::array props;
    for (const auto& p : v->get_array()) {
      if (!p.is_object())
        throw ApiError::bad_request("additionalProperties[] must be {name, value, display}");
      json::object prop;
      std::string name = required_string(p.get_object(), "name", 80);
      if (name.empty() || name.find(' ') != std::string::npos)
        throw ApiError::bad_request("additionalProperties[].name must be non-empty, no spaces");
      prop["name"] = name;
      prop["value"] = required_string(p.get_object(), "value", 1024);
      prop["display"] = optional_bool(p.get_object(), "display").value_or(false);
      props.push_back(std::move(prop));
    }
    api["additionalProperties"] = std::move(props);
  }
  if (const json::array* scopes = optional_array(body, "scopes"))
    api["scopes"] = validate_scopes(*scopes);
  std::set<std::string> defined = scope_names(api["scopes"].get_array());
  if (const json::array* ops = optional_array(body, "operations")) {
    if (ops->size() > openapi::kMaxOperations)
      throw ApiError::bad_request("operations holds more than " +
                                  std::to_string(openapi::kMaxOperations) + " operations");
    json::array out;
    std::set<std::string> seen;
    for (const auto& entry : *ops) {
      if (!entry.is_object()) throw ApiError::bad_request("operations[] must be objects");
      const json::object& o = entry.get_object();
      std::string target = required_string(o, "target", 1024);
      if (target.empty() || target[0] != '/')
        throw ApiError::bad_request("operations[].target must start with /");
      for (unsigned char c : target)
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#')
          throw ApiError::bad_request("operations[].target '" + target + "' is not a path");
      std::string verb = required_string(o, "verb", 16);
      std::transform(verb.begin(), verb.end(), verb.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (!known_verbs().count(verb))
        throw ApiError::bad_request("operations[].verb '" + verb + "' is not an HTTP method");
      if (!seen.insert(verb + " " + target).second)
        throw ApiError::bad_request("operation " + verb + " " + target + " is listed twice");
      json::object op;
      op["target"] = target;
      op["verb"] = verb;
      std::string auth =
          optional_string(o, "authType", 64).value_or("Application & Application User");
      if (std::find(kAuthTypes.begin(), kAuthTypes.end(), auth) == kAuthTypes.end())
        throw ApiError::bad_request("operations[].authType '" + auth +
                                    "' is not one of "
                                    "Application & Application User, Application User, "
                                    "Application, None, Any");
      op["authType"] = auth;
      std::string policy = optional_string(o, "throttlingPolicy", 60).value_or("Unlimited");
      if (!admin.policy_exists(admin::PolicyLevel::advanced, policy))
        throw ApiError::bad_request("operations[].throttlingPolicy '" + policy +
                                    "' does not exist");
      op["throttlingPolicy"] = policy;
      auto scopes =
          optional_string_array(o, "scopes", 50, 255).value_or(std::vector<std::string>{});
      for (const auto& s : scopes)
        if (!defined.count(s))
          throw ApiError::bad_request("operation " + verb + " " + target + " uses scope '" + s +
                                      "', which the API's scopes do not define");
      op["scopes"] = string_array(scopes);
      const json::value* policies = o.if_contains("operationPolicies");
      op["operationPolicies"] =
          runtime_fields::operation_policies(policies != nullptr ? *policies : json::value(nullptr),
                                             "operation " + verb + " " + target);
      out.push_back(std::move(op));
    }
    api["operations"] = std::move(out);
  } else {
    // Scopes removed from the API may still be named by its stored operations.
    for (const auto& op : api["operations"].get_array()) {
      for (const auto& s : op.get_object().at("scopes").get_array())
        if (!defined.count(std::string(s.get_string())))
          throw ApiError::bad_request("operation " + string_at(op.get_object(), "verb") + " " +
                                      string_at(op.get_object(), "target") + " uses scope '" +
                                      std::string(s.get_string()) + "', which is not defined");
    }
  }
  return api;
}

// ---- routes: APIs --------------------------------------------------------------------------

namespace {

// The reference's APIInfo: what GET /apis lists.
json::object api_info(const json::object& api) {
  json::object info;
  for (const char* key :
       {"id", "name", "description", "context", "version", "provider", "type", "lifeCycleStatus",
        "hasThumbnail", "securityScheme", "createdTime", "lastUpdatedTime", "isDefaultVersion",
        "visibility", "tags", "policies", "businessInformation"}) {
    if (auto* v = api.if_contains(key)) info[key] = *v;
  }
  if (auto* t = api.if_contains("lastUpdatedTime")) info["updatedTime"] = *t;
  return info;
}

store::ApiQuery parse_search(const http::Request& request) {
  store::ApiQuery q;
  std::string text = request.query_param("query").value_or("");
  if (text.size() > 512) throw ApiError::bad_request("query is longer than 512 characters");
  std::string plain;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string term = text.substr(pos, end - pos);
    pos = end + 1;
    if (term.empty()) continue;
    std::size_t colon = term.find(':');
    if (colon == std::string::npos) {
      term.erase(std::remove(term.begin(), term.end(), '*'), term.end());
      if (term.empty()) continue;
      plain += (plain.empty() ? "" : " ") + term;
      continue;
    }
    std::string key = term.substr(0, colon);
    std::string value = term.substr(colon + 1);
    // The reference's wildcard: terms already match anywhere, so '*' adds nothing.
    value.erase(std::remove(value.begin(), value.end(), '*'), value.end());
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (key == "name")
      q.name = value;
    else if (key == "status" || key == "lcstate") {
      std::transform(value.begin(), value.end(), value.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      q.status = value;
    } else if (key == "tags" || key == "tag")
      q.tag = value;
    else if (key == "provider")
      q.provider = value;
    else if (key == "version")
      q.version = value;
    else if (key == "context")
      q.context = value;
    else if (key == "description" || key == "content")
      plain += (plain.empty() ? "" : " ") + value;
    else
      throw ApiError::bad_request("query attribute '" + key +
                                  "' is not supported (name, status, tags, provider, version, "
                                  "context, description)");
  }
  q.text = plain;
  if (auto sort = request.query_param("sortBy")) {
    one_of("sortBy", *sort, {"name", "version", "context", "provider", "status", "createdTime"});
    q.sort_by = *sort;
  }
  if (auto order = request.query_param("sortOrder")) {
    one_of("sortOrder", *order, {"asc", "desc"});
    q.descending = *order == "desc";
  }
  return q;
}

}  // namespace

void Publisher::Impl::add_api_routes(http::Router& router) {
  const std::string base(kBase);

  router.add("GET", base + "/apis", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view", "apim:api_list_view"});
      http::Page page = http::read_page(r);
      store::ApiQuery q = parse_search(r);
      q.limit = page.limit;
      q.offset = page.offset;
      store::ApiPage result = apis.search(q);
      json::array list;
      for (const auto& item : result.items) list.push_back(api_info(parse_document(item.document)));
      std::string query;
      if (auto v = r.query_param("query")) query = "query=" + http::percent_encode(*v);
      return json_response(
          200, http::list_envelope(std::move(list), page, result.total, "/apis", query));
    });
  });

  router.add("POST", base + "/apis", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_create"});
      json::object body = json_body::parse_object(r.body);
      json::object api = apply_api_fields(body, nullptr);
      std::int64_t now = unix_now();
      api["provider"] = who.username;
      api["createdTime"] = millis_text(now);
      api["lastUpdatedTime"] = millis_text(now);
      store::ApiRecord record = record_of(api);
      ensure_definition(record, api);
      record.created_time = record.updated_time = now;
      insert_api(record, api);
      http::Response response = json_response(201, api);
      response.headers.set("Location", std::string(kBase) + "/apis/" + record.id);
      return response;
    });
  });

  router.add("GET", base + "/apis/{apiId}", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      return json_response(200, parse_document(require_api(r.path_params["apiId"]).document));
    });
  });

  router.add("PUT", base + "/apis/{apiId}", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_create"});
      store::ApiRecord current = require_changeable_api(who, r.path_params["apiId"]);
      json::object body = json_body::parse_object(r.body);
      json::object existing = parse_document(current.document);
      json::object api = apply_api_fields(body, &existing);
      std::int64_t now = unix_now();
      api["lastUpdatedTime"] = millis_text(now);
      store::ApiRecord record = record_of(api);
      record.openapi = current.openapi;
      // The definition follows the operations and scopes, keeping what else it says.
      if ((body.contains("operations") || body.contains("scopes")) && !record.openapi.empty())
        record.openapi = json::serialize(openapi::sync(parse_document(record.openapi), api));
      ensure_definition(record, api);
      record.created_time = current.created_time;
      record.updated_time = now;
      update_api(record, api, existing, current);
      return json_response(200, api);
    });
  });

  router.add("DELETE", base + "/apis/{apiId}", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_delete"});
      std::string id = r.path_params["apiId"];
      if (id.size() > 64) throw ApiError::not_found("no API with that id");
      require_changeable_api(who, id);
      auto deployed = revisions.deployments(id);
      switch (apis.remove(id)) {
        case store::RemoveResult::not_found:
          throw ApiError::not_found("no API with id " + id);
        case store::RemoveResult::has_subscriptions:
          throw ApiError::conflict("the API has subscriptions: they must be removed first");
        case store::RemoveResult::removed:
          break;
      }
      release_scopes(id);
      for (const auto& d : deployed) {
        json::object payload{
            {"api_id", id}, {"revision_id", d.revision_id}, {"environment", d.environment}};
        publish(events::types::kApiUndeployed, payload);
      }
      publish(events::types::kApiDeleted, json::object{{"api_id", id}});
      return http::Response::json(200, "");
    });
  });

  router.add("POST", base + "/apis/copy-api", [this](http::Request& r) {
    return guarded([&] {
      auto who = authorize(r, {"apim:api_create"});
      std::string new_version = required_query(r, "newVersion");
      check_version(new_version);
      store::ApiRecord source = require_api(required_query(r, "apiId"));
      bool make_default = r.query_param("defaultVersion").value_or("false") == "true";
      json::object api = parse_document(source.document);
      std::int64_t now = unix_now();
      api["id"] = crypto::uuid_v4();
      api["version"] = new_version;
      api["lifeCycleStatus"] = lifecycle::kCreated;
      api["isDefaultVersion"] = make_default;
      api["createdTime"] = millis_text(now);
      api["lastUpdatedTime"] = millis_text(now);
      store::ApiRecord record = record_of(api);
      record.created_time = record.updated_time = now;
      if (!source.openapi.empty()) {
        json::object definition = parse_document(source.openapi);
        if (auto* info = definition.if_contains("info"); info && info->is_object())
          info->get_object()["version"] = new_version;
        record.openapi = json::serialize(definition);
      }
      ensure_definition(record, api);
      try {
        apis.create(record);
      } catch (const store::ConflictError&) {
        throw ApiError::conflict("version '" + new_version + "' of API '" + record.name +
                                 "' already exists");
      }
      // The new version carries over the documents and the thumbnail.
      for (const auto& listed : documents.list(source.id, 1000, 0)) {
        auto doc = documents.find(source.id, listed.id);
        if (!doc) continue;
        store::ApiDocumentRecord copy = *doc;
        copy.id = crypto::uuid_v4();
        copy.api_id = record.id;
        copy.created_time = now;
        json::object meta = parse_document(copy.document);
        meta["documentId"] = copy.id;
        copy.document = json::serialize(meta);
        documents.create(copy);
      }
      if (auto thumb = apis.thumbnail(source.id); thumb && !thumb->first.empty())
        apis.set_thumbnail(record.id, thumb->first, thumb->second, record.document);
      store_scopes(record.id, api);
      if (make_default) clear_default_versions(record.name, record.id);
      (void)who;
      return json_response(201, api);
    });
  });

  // The reference's existence check behind its "name/context already taken" hints: 200 when
  // an API has exactly that name (any case), context or version, 404 otherwise.
  router.add("POST", base + "/apis/validate", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_create", "apim:api_manage"});
      std::string query = required_query(r, "query");
      std::string key = "name", value = query;
      if (auto colon = query.find(':'); colon != std::string::npos) {
        key = query.substr(0, colon);
        value = query.substr(colon + 1);
      }
      json_body::one_of("query", key, {"name", "context", "version"});
      if (value.empty()) throw ApiError::bad_request("query names nothing to check");
      store::ApiQuery q;
      auto lower = [](std::string v) {
        std::transform(v.begin(), v.end(), v.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return v;
      };
      if (key == "name") q.name = value;
      if (key == "context") {
        if (value[0] != '/') value.insert(0, "/");
        q.context = value;
      }
      if (key == "version") q.version = value;
      q.limit = http::kMaxPageLimit;
      for (const auto& item : apis.search(q).items) {
        bool match = key == "name"      ? lower(item.name) == lower(value)
                     : key == "context" ? lower(item.context) == lower(value)
                                        : item.version == value;
        if (match) return http::Response::json(200, "");
      }
      throw ApiError::not_found("no API has " + key + " '" + value + "'");
    });
  });

  router.add("GET", base + "/apis/{apiId}/subscription-policies", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:api_view"});
      store::ApiRecord api = require_api(r.path_params["apiId"]);
      json::array out;
      for (auto& policy : admin.policy_summaries(admin::PolicyLevel::subscription)) {
        if (!policy.is_object()) continue;
        std::string name = string_at(policy.get_object(), "name");
        if (std::find(api.policies.begin(), api.policies.end(), name) != api.policies.end())
          out.push_back(std::move(policy));
      }
      return json_response(200, out);
    });
  });

  router.add("GET", base + "/throttling-policies/{policyLevel}", [this](http::Request& r) {
    return guarded([&] {
      authorize(r, {"apim:tier_view", "apim:api_view"});
      std::string level = r.path_params["policyLevel"];
      admin::PolicyLevel l;
      if (level == "subscription")
        l = admin::PolicyLevel::subscription;
      else if (level == "api")
        l = admin::PolicyLevel::advanced;
      else
        throw ApiError::bad_request("policyLevel must be subscription or api");
      json::array list = admin.policy_summaries(l);
      http::Page page{static_cast<std::int64_t>(list.size()) + 1, 0};
      std::int64_t total = static_cast<std::int64_t>(list.size());
      return json_response(
          200, http::list_envelope(std::move(list), page, total, "/throttling-policies/" + level));
    });
  });
}

// ---- Publisher ------------------------------------------------------------------------------

Publisher::Publisher(const Config& config, store::Database& db, events::EventBus& bus,
                     keymanager::KeyManager& key_manager, admin::Admin& admin)
    : impl_(std::make_unique<Impl>(config, db, bus, key_manager, admin)) {}

Publisher::~Publisher() = default;

void Publisher::register_routes(http::Router& router) {
  impl_->add_api_routes(router);
  impl_->add_lifecycle_routes(router);
  impl_->add_content_routes(router);
}

}  // namespace portico::publisher
