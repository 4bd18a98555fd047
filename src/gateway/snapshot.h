#pragma once
// What a gateway knows about the world at one moment: the APIs deployed to its environment
// (compiled into routes), applications, their OAuth clients and subscriptions, and the
// throttling policies. Built off the request path from the internal data API, published as
// an immutable std::shared_ptr<const Snapshot> and swapped atomically; the request path only
// reads it. Strings are owned here so that per-request state can hold string_views into it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/sharded_map.h"
#include "traffic/traffic.h"

namespace portico::gateway {

// Who may call a resource (the reference's operation authType).
enum class AuthType : std::uint8_t {
  kNone,                           // "None": no credentials at all
  kApplication,                    // "Application": application tokens (client_credentials)
  kApplicationUser,                // "Application User": tokens that carry an end user
  kApplicationAndApplicationUser,  // "Application & Application User" / "Any": either
};

// addHeader / removeHeader operation policies, applied in the order listed.
struct HeaderPolicy {
  enum class Kind : std::uint8_t { kAdd, kRemove };
  Kind kind = Kind::kAdd;
  std::string name;
  std::string value;
};

// The reference's suspendOnFailure for one endpoint.
struct SuspendPolicy {
  std::chrono::milliseconds initial{30000};  // suspendDuration
  std::chrono::milliseconds max{3600000};    // suspendMaxDuration
  double factor = 1.0;                       // each consecutive failure multiplies the duration
  // Transport codes that suspend (101503 connection failed, 101504 timed out, ...).
  std::vector<long> codes{101503, 101504, 101505, 101508};
};

struct Endpoint {
  std::string url;          // as configured, for logs and analytics
  bool tls = false;         // https
  std::string host;         // for DNS and SNI
  std::string port;         // "80" / "443" / explicit
  std::string host_header;  // Host sent upstream: host[:port] as in the URL
  std::string base_path;    // the URL's path without a trailing '/', "" for the root
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{60000};  // actionDuration
  SuspendPolicy suspend;
  // Index into per-thread endpoint state (connection pools, suspension); unique within a
  // snapshot and stable across snapshots for the same url + settings.
  std::size_t slot = 0;
};

struct EndpointGroup {
  enum class Type : std::uint8_t { kHttp, kLoadBalance, kFailover };
  Type type = Type::kHttp;
  // kHttp: one. kLoadBalance: round robin over all. kFailover: the primary, then failovers.
  std::vector<Endpoint> endpoints;
};

struct Cors {
  bool enabled = false;
  std::vector<std::string> allow_origins;  // "*" allows any
  bool allow_credentials = false;
  std::string allow_headers;  // joined with ", ", ready for the response
  std::string allow_methods;
};

// One operation of an API: verb + URI template.
struct Resource {
  std::string verb;          // upper case
  std::string uri_template;  // "/pets/{petId}", "/*"
  AuthType auth = AuthType::kApplicationAndApplicationUser;
  std::vector<std::string> scopes;  // any one of them allows the call
  std::string throttling_policy;    // resource-level advanced policy, "" or "Unlimited" for none
  std::string throttle_key;         // api id + verb + template, the resource's counter key
  std::vector<HeaderPolicy> request_headers;
  std::vector<HeaderPolicy> response_headers;
};

struct Api {
  std::string id;
  std::string name;
  std::string version;
  std::string context;          // "/pets" (no version)
  std::string context_version;  // "/pets/1.0.0": what deny policies of type API name
  std::string provider;
  std::string lifecycle;  // PUBLISHED, PROTOTYPED, BLOCKED, DEPRECATED, RETIRED, CREATED
  std::string revision_id;
  // Unix seconds. Of two APIs claiming one route, the one deployed later keeps it.
  std::int64_t deployed_time = 0;
  bool default_version = false;
  bool prototype_without_auth = false;  // a PROTOTYPED API invokable without credentials
  std::vector<Resource> resources;
  std::optional<EndpointGroup> production;
  std::optional<EndpointGroup> sandbox;
  // securityScheme
  bool oauth2 = true;
  bool api_key = false;
  bool basic_auth = false;
  bool mandatory_all = false;  // oauth_basic_auth_api_key_mandatory: one of them is required
  std::string authorization_header = "Authorization";
  std::string api_key_header = "apikey";
  bool api_key_in_query = false;  // the API key may come as ?<api_key_header>=
  Cors cors;
  // The API's scopes and the roles bound to each ("bindings"): Basic-authenticated callers
  // hold a scope when they have one of its roles. A scope without bindings is open to all.
  StringMap<std::vector<std::string>> scope_roles;
  std::string api_throttling_policy;    // API-level advanced policy
  std::int64_t max_tps_production = 0;  // 0: no limit
  std::int64_t max_tps_sandbox = 0;
};

struct Application {
  std::string id;
  std::string name;
  std::string owner;
  std::string throttling_policy;
  std::string status;  // APPROVED, CREATED (pending), REJECTED
};

struct KeyMapping {
  std::string application_id;
  std::string key_type;  // PRODUCTION / SANDBOX
};

struct Subscription {
  std::string id;
  std::string application_id;
  std::string api_id;
  std::string throttling_policy;
  std::string status;        // UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED, ON_HOLD, REJECTED, ...
  std::string throttle_key;  // application id + api id
};

// One application with everything a call with one of its keys needs: what a gateway learns
// from one per-item read of the internal data API.
struct ApplicationRecord {
  Application application;
  StringMap<KeyMapping> clients;          // by OAuth client id
  StringMap<Subscription> subscriptions;  // by api id
};

// Copying a Snapshot shares every map's shards (see ShardedMap): a patch copies the snapshot
// and rewrites only the shards of what changed.
class Snapshot {
 public:
  std::uint64_t version = 0;  // increases with every snapshot a gateway builds
  std::string environment;

  ShardedMap<std::shared_ptr<const Api>> apis;  // by API id
  ShardedMap<Application> applications;         // by id
  ShardedMap<KeyMapping> clients;               // by OAuth client id (consumer key)
  // The client ids mapped to each application (by application id): what a patch of that
  // application removes from `clients`.
  ShardedMap<std::vector<std::string>> client_ids;
  // By application id, then api id: two lookups without building a key per request.
  ShardedMap<StringMap<Subscription>> subscriptions;
  std::shared_ptr<const traffic::PolicySet> policies;

  // Routing: by "/context/version" and, for default versions, by "/context".
  ShardedMap<std::shared_ptr<const Api>> by_context;

  // Maps OAuth client `client_id` to its application (in `clients` and `client_ids`).
  void map_client(const std::string& client_id, KeyMapping mapping) {
    client_ids[mapping.application_id].push_back(client_id);
    clients.insert_or_assign(client_id, std::move(mapping));
  }

  const Subscription* find_subscription(std::string_view application_id,
                                        std::string_view api_id) const {
    const StringMap<Subscription>* app = subscriptions.find(application_id);
    if (app == nullptr) return nullptr;
    auto sub = app->find(api_id);
    return sub == app->end() ? nullptr : &sub->second;
  }
};

// Revoked token and API-key ids (jti) with their expiry; replaced whole on every revocation
// (rare), read on every request.
struct RevokedTokens {
  StringMap<std::int64_t> jtis;  // jti → exp (unix seconds)
  bool contains(std::string_view jti) const { return jtis.find(jti) != jtis.end(); }
};

}  // namespace portico::gateway
