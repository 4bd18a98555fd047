// The internal data API gateways pull their configuration from (the reference's
// /internal/data/v1/...). HTTP Basic with the gateway credential from [internal_api]; every
// list is paged by key: ?after=<last key of the previous page>&limit=<1..1000>, answered with
// {"list": [...], "next": "<after for the next page, or empty at the end>"}.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

#include "admin/admin_internal.h"
#include "admin/event_stream.h"
#include "admin/validation.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

constexpr std::string_view kInternalBase = "/internal/data/v1";
constexpr int kDefaultLimit = 100;
constexpr std::string_view kClusterIdName = "cluster-id";
constexpr int kMaxLimit = 1000;
constexpr std::size_t kMaxAfterLength = 128;
// users/authenticate: a {username, password} body is a few hundred bytes; the user store's own
// limits (100-character names, 1024-character passwords) bound what is worth hashing.
constexpr std::size_t kMaxAuthenticateBody = 4096;
constexpr std::size_t kMaxUsername = 100;
constexpr std::size_t kMaxPassword = 1024;

struct Keyset {
  std::string after;
  int limit = kDefaultLimit;
};

Keyset read_keyset(const http::Request& request) {
  Keyset k;
  if (auto after = request.query_param("after")) {
    if (after->size() > kMaxAfterLength)
      throw ApiError::bad_request("'after' is longer than " + std::to_string(kMaxAfterLength) +
                                  " characters");
    k.after = *after;
  }
  if (auto text = request.query_param("limit")) {
    int value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size() || value < 1 || value > kMaxLimit)
      throw ApiError::bad_request("'limit' must be an integer from 1 to " +
                                  std::to_string(kMaxLimit));
    k.limit = value;
  }
  return k;
}

// One page: `rows` were fetched with limit + 1, so a full page proves there is a next one
// without a second query.
template <class Row, class Key, class ToJson>
http::Response page(std::vector<Row> rows, int limit, Key key, ToJson to_json) {
  std::string next;
  if (rows.size() > static_cast<std::size_t>(limit)) {
    rows.resize(limit);
    next = key(rows.back());
  }
  json::array list;
  for (const auto& row : rows) list.push_back(to_json(row));
  json::object body{{"list", std::move(list)}, {"next", next}};
  return json_response(200, body);
}

json::value parse_or_null(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

json::object subscription_json(const store::GatewaySubscription& r) {
  return json::object{{"id", r.id},
                      {"applicationId", r.application_id},
                      {"apiId", r.api_id},
                      {"throttlingPolicy", r.throttling_policy},
                      {"status", r.status},
                      {"createdTime", r.created_time},
                      {"updatedTime", r.updated_time}};
}

json::object application_json(const store::GatewayApplication& r) {
  return json::object{{"id", r.id},
                      {"name", r.name},
                      {"owner", r.owner},
                      {"throttlingPolicy", r.throttling_policy},
                      {"tokenType", r.token_type},
                      {"status", r.status},
                      {"updatedTime", r.updated_time}};
}

json::object key_mapping_json(const store::GatewayKeyMapping& r) {
  return json::object{{"id", r.id},
                      {"applicationId", r.application_id},
                      {"keyType", r.key_type},
                      {"clientId", r.client_id}};
}

// One application as a gateway needs it: the application's fields, plus its key mappings and
// its subscriptions, so that one read tells a gateway everything a call with its key needs.
json::object application_bundle_json(store::GatewayDataRepository& data,
                                     const store::GatewayApplication& app) {
  json::object body = application_json(app);
  json::array keys, subscriptions;
  for (const auto& k : data.key_mappings_of(app.id)) keys.push_back(key_mapping_json(k));
  for (const auto& s : data.subscriptions_of(app.id)) subscriptions.push_back(subscription_json(s));
  body["keyMappings"] = std::move(keys);
  body["subscriptions"] = std::move(subscriptions);
  return body;
}

// One deployment as a gateway compiles it.
json::object runtime_artifact_json(const store::GatewayDeployment& r) {
  return json::object{{"apiId", r.api_id},
                      {"revisionId", r.revision_id},
                      {"environment", r.environment},
                      {"vhost", r.vhost},
                      {"displayOnDevportal", r.display_on_devportal},
                      {"deployedTime", r.deployed_time},
                      // Now, not when the revision was taken.
                      {"lifeCycleStatus", r.lifecycle_status},
                      {"api", parse_or_null(r.document)},
                      {"openapi", r.openapi}};
}

// A path segment naming one item: ids are short; anything longer names nothing.
const std::string& item_id(const http::Request& request, const std::string& name) {
  const std::string& id = request.path_params.at(name);
  if (id.empty() || id.size() > kMaxAfterLength)
    throw ApiError::bad_request("'" + name + "' is not a valid id");
  return id;
}

}  // namespace

void Admin::Impl::add_internal_routes(http::Router& router) {
  const std::string base(kInternalBase);

  // The check is the Key Manager's (introspection accepts the same credentials): the shared
  // [internal_api] one or a live gateway credential (gateway_credentials.cpp). The caller is
  // then that gateway credential, else nullopt (the shared one).
  auto authenticate = [this](const http::Request& request) {
    auto caller = key_manager.authenticate_gateway(request);
    if (!caller) {
      ApiError e(401, 900901, "Invalid Credentials",
                 "The internal data API needs the gateway credential of [internal_api] or a "
                 "live gateway credential");
      e.headers["WWW-Authenticate"] = "Basic realm=\"portico-internal\"";
      throw e;
    }
    return caller->own;
  };

  // The environment a runtime-artifact read names: 400 without one, 404 for an unknown one.
  // A gateway's own credential reads its environment only (403 for another).
  auto required_environment = [this](const http::Request& request,
                                     const std::optional<store::GatewayCredentialRecord>& caller) {
    auto environment = request.query_param("environment");
    if (!environment || environment->empty() || environment->size() > 255)
      throw ApiError::bad_request("'environment' is required");
    if (caller && caller->environment != *environment)
      throw ApiError::forbidden("this gateway credential is for the environment '" +
                                caller->environment + "'");
    if (!environments.find_by_name(*environment))
      throw ApiError::not_found("no environment named '" + *environment + "'");
    return std::string(*environment);
  };

  for (PolicyLevel level :
       {PolicyLevel::subscription, PolicyLevel::application, PolicyLevel::advanced}) {
    router.add("GET", base + "/policies/" + std::string(level_name(level)),
               guarded([this, authenticate, level](http::Request& request) {
                 authenticate(request);
                 auto k = read_keyset(request);
                 return page(
                     policies.list_after(std::string(level_name(level)), k.after, k.limit + 1),
                     k.limit, [](auto& r) { return r.id; },
                     [level](auto& r) { return policy_json(level, r); });
               }));
  }

  router.add("GET", base + "/deny-policies", guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto k = read_keyset(request);
               return page(
                   deny_policies.list_after(k.after, k.limit + 1), k.limit,
                   [](auto& r) { return r.id; }, [](auto& r) { return deny_policy_json(r); });
             }));

  router.add("GET", base + "/environments", guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto k = read_keyset(request);
               return page(
                   environments.list_after(k.after, k.limit + 1), k.limit,
                   [](auto& r) { return r.id; }, [](auto& r) { return environment_json(r); });
             }));

  router.add("GET", base + "/revoked-tokens", guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto k = read_keyset(request);
               // Revocations live only until the token expires, so the set is small; the
               // repository returns it whole and the page is cut here, by jti.
               auto revoked = tokens.list_revoked_jtis(unix_now());
               std::sort(revoked.begin(), revoked.end());
               std::vector<std::pair<std::string, std::int64_t>> rows;
               for (auto& entry : revoked) {
                 if (entry.first <= k.after) continue;
                 rows.push_back(entry);
                 if (rows.size() > static_cast<std::size_t>(k.limit)) break;
               }
               return page(
                   std::move(rows), k.limit, [](auto& r) { return r.first; },
                   [](auto& r) {
                     return json::object{{"jti", r.first}, {"expiresAt", r.second}};
                   });
             }));

  router.add("GET", base + "/subscriptions", guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto k = read_keyset(request);
               return page(
                   gateway_data.subscriptions_after(k.after, k.limit + 1), k.limit,
                   [](auto& r) { return r.id; }, subscription_json);
             }));

  router.add("GET", base + "/applications", guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto k = read_keyset(request);
               return page(
                   gateway_data.applications_after(k.after, k.limit + 1), k.limit,
                   [](auto& r) { return r.id; }, application_json);
             }));

  // The cluster's event log as server-sent events, for gateways that reach the cluster only
  // through this URL (events.transport = "sse"; docs/events.md).
  event_feed = std::make_unique<events::EventFeed>(
      bus, static_cast<std::size_t>(config.events.stream_history),
      static_cast<std::size_t>(config.events.max_streams));
  router.add("GET", base + "/events", guarded([this, authenticate](http::Request& request) {
               auto caller = authenticate(request);
               return event_stream_response(*event_feed, request,
                                            std::chrono::seconds(config.events.heartbeat_seconds),
                                            caller ? caller->id : std::string());
             }));

  // Which cluster this is: made once per database (migration 0013), so that a gateway can
  // tell a control plane of its own cluster from one on another (or a wiped) database.
  router.add("GET", base + "/cluster", guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               std::string id = cluster_secrets.get_or_create(std::string(kClusterIdName),
                                                              crypto::uuid_v4(), unix_now());
               return json_response(200, json::object{{"clusterId", id}});
             }));

  // Per-item reads (a gateway re-reading what an event named, or what a call named that its
  // snapshot does not know yet): 404 when the item does not exist (any more).
  router.add("GET", base + "/subscriptions/{subscriptionId}",
             guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto sub = gateway_data.subscription(item_id(request, "subscriptionId"));
               if (!sub) throw ApiError::not_found("no such subscription");
               return json_response(200, subscription_json(*sub));
             }));

  router.add("GET", base + "/applications/{applicationId}",
             guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto app = gateway_data.application(item_id(request, "applicationId"));
               if (!app) throw ApiError::not_found("no such application");
               return json_response(200, application_bundle_json(gateway_data, *app));
             }));

  // The application an OAuth client (consumer key) belongs to, in the same shape.
  router.add("GET", base + "/clients/{clientId}/application",
             guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto mapping = gateway_data.key_mapping_by_client(item_id(request, "clientId"));
               auto app =
                   mapping ? gateway_data.application(mapping->application_id) : std::nullopt;
               if (!app) throw ApiError::not_found("no application has this client");
               return json_response(200, application_bundle_json(gateway_data, *app));
             }));

  router.add("GET", base + "/application-key-mappings",
             guarded([this, authenticate](http::Request& request) {
               authenticate(request);
               auto k = read_keyset(request);
               return page(
                   gateway_data.key_mappings_after(k.after, k.limit + 1), k.limit,
                   [](auto& r) { return r.id; }, key_mapping_json);
             }));

  router.add("GET", base + "/runtime-artifacts",
             guarded([this, authenticate, required_environment](http::Request& request) {
               auto caller = authenticate(request);
               const std::string environment = required_environment(request, caller);
               auto k = read_keyset(request);
               return page(
                   gateway_data.deployments_after(environment, k.after, k.limit + 1), k.limit,
                   [](auto& r) { return r.api_id; }, runtime_artifact_json);
             }));

  // One API's runtime artifact in an environment (a gateway re-reading what an api.* event
  // named): 404 when the API is not deployed there (any more).
  router.add("GET", base + "/runtime-artifacts/{apiId}",
             guarded([this, authenticate, required_environment](http::Request& request) {
               auto caller = authenticate(request);
               const std::string environment = required_environment(request, caller);
               auto artifact = gateway_data.deployment(environment, item_id(request, "apiId"));
               if (!artifact)
                 throw ApiError::not_found("the API is not deployed to '" + environment + "'");
               return json_response(200, runtime_artifact_json(*artifact));
             }));

  // A gateway checking an API call's HTTP Basic credential (securityScheme basic_auth) against
  // the user store. A wrong user credential is 401 without WWW-Authenticate, so that the gateway
  // tells it apart from a refusal of its own credential (which carries one).
  router.add(
      "POST", base + "/users/authenticate", guarded([this, authenticate](http::Request& request) {
        authenticate(request);
        if (request.body.size() > kMaxAuthenticateBody)
          throw ApiError::bad_request("the body is larger than " +
                                      std::to_string(kMaxAuthenticateBody) + " bytes");
        json::object body = json_body::parse_object(request.body);
        // Both must be strings; empty or over-long ones cannot belong to any user and
        // are refused unhashed, as a mismatch.
        auto username = json_body::optional_string(body, "username", kMaxAuthenticateBody);
        auto password = json_body::optional_string(body, "password", kMaxAuthenticateBody);
        if (!username || !password)
          throw ApiError::bad_request("the body must be {\"username\", \"password\"}");
        // The gateway's caller, whose failures count against its address (login
        // throttling); the gateway itself when it does not say.
        auto client_address = json_body::optional_string(body, "clientAddress", 64);
        std::string source =
            client_address && !client_address->empty() ? *client_address : request.remote_address;
        std::optional<store::UserRecord> user;
        // A locked account or address: AccountLocked, 401 with code 17003.
        if (!username->empty() && username->size() <= kMaxUsername && !password->empty() &&
            password->size() <= kMaxPassword)
          user = key_manager.users().authenticate(*username, *password, source);
        if (!user)
          throw ApiError(401, 900901, "Invalid Credentials",
                         "The username or password is not valid");
        json::array roles;
        for (const auto& role : user->roles) roles.push_back(json::string(role));
        return json_response(
            200, json::object{{"username", user->username}, {"roles", std::move(roles)}});
      }));
}

}  // namespace portico::admin
