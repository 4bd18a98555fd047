#pragma once
// Test support for the filter tests (filter_*_test.cpp): a hand-built snapshot with one API,
// requests as the session would hand them to the chain, and lookups in replies and edits.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "common/jwt.h"
#include "gateway/authenticator.h"
#include "gateway/context.h"
#include "gateway/control_plane.h"
#include "gateway/routes.h"
#include "gateway/snapshot.h"
#include "traffic/traffic.h"

namespace portico::gateway::filter_test {

inline constexpr std::int64_t kNowMs = 1'800'000'000'000;  // a minute boundary
inline constexpr std::int64_t kNow = kNowMs / 1000;
inline constexpr std::string_view kClientIp = "192.0.2.10";

inline Resource resource(std::string verb, std::string uri_template,
                         AuthType auth = AuthType::kApplicationAndApplicationUser,
                         std::vector<std::string> scopes = {}) {
  Resource r;
  r.verb = std::move(verb);
  r.uri_template = std::move(uri_template);
  r.auth = auth;
  r.scopes = std::move(scopes);
  r.throttle_key = "api-1:" + r.verb + ":" + r.uri_template;
  return r;
}

// PetStore 1.0.0 by alice at /pets/1.0.0: OAuth2 and API keys, CORS for one origin, scopes
// "write" (role writer) and "admin_scope" (role admin), one production endpoint.
inline std::shared_ptr<Api> pet_api() {
  auto api = std::make_shared<Api>();
  api->id = "api-1";
  api->name = "PetStore";
  api->version = "1.0.0";
  api->context = "/pets";
  api->context_version = "/pets/1.0.0";
  api->provider = "alice";
  api->lifecycle = "PUBLISHED";
  api->oauth2 = true;
  api->api_key = true;
  api->resources.push_back(resource("GET", "/items"));
  api->resources.push_back(
      resource("POST", "/items", AuthType::kApplicationAndApplicationUser, {"write"}));
  api->resources.push_back(resource("GET", "/open", AuthType::kNone));
  api->resources.push_back(resource("GET", "/apponly", AuthType::kApplication));
  api->resources.push_back(resource("GET", "/useronly", AuthType::kApplicationUser));
  api->resources.push_back(
      resource("GET", "/admin", AuthType::kApplicationAndApplicationUser, {"admin_scope"}));
  api->resources.push_back(
      resource("GET", "/public", AuthType::kApplicationAndApplicationUser, {"open_scope"}));
  EndpointGroup group;
  Endpoint endpoint;
  endpoint.url = "http://backend.example:8080/v1";
  endpoint.host = "backend.example";
  endpoint.port = "8080";
  group.endpoints.push_back(endpoint);
  api->production = group;
  api->cors.enabled = true;
  api->cors.allow_origins = {"https://app.example.com"};
  api->cors.allow_headers = "authorization, content-type";
  api->cors.allow_methods = "GET, PUT, POST, DELETE, OPTIONS";
  api->scope_roles["write"] = {"writer"};
  api->scope_roles["admin_scope"] = {"admin"};
  api->scope_roles["open_scope"] = {};
  return api;
}

inline std::shared_ptr<const traffic::PolicySet> policies(std::string_view subscription = "",
                                                          std::string_view application = "",
                                                          std::string_view advanced = "",
                                                          std::string_view deny = "") {
  auto arr = [](std::string_view items) {
    return boost::json::parse("[" + std::string(items) + "]").as_array();
  };
  std::vector<std::string> warnings;
  auto set = traffic::PolicySet::build(arr(subscription), arr(application), arr(advanced),
                                       arr(deny), &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  return set;
}

// The API above, application app-1 ("shop", owned by bob, APPROVED) with OAuth clients
// client-prod (PRODUCTION) and client-sbx (SANDBOX), and an UNBLOCKED Gold subscription.
inline std::shared_ptr<Snapshot> snapshot_with(std::shared_ptr<Api> api = pet_api()) {
  auto s = std::make_shared<Snapshot>();
  s->version = 7;
  s->environment = "Default";
  s->apis[api->id] = api;
  s->by_context[api->context_version] = api;
  if (api->default_version) s->by_context[api->context] = api;
  Application app;
  app.id = "app-1";
  app.name = "shop";
  app.owner = "bob";
  app.throttling_policy = "10PerMin";
  app.status = "APPROVED";
  s->applications[app.id] = app;
  s->clients["client-prod"] = KeyMapping{"app-1", "PRODUCTION"};
  s->clients["client-sbx"] = KeyMapping{"app-1", "SANDBOX"};
  s->clients["client-orphan"] = KeyMapping{"app-gone", "PRODUCTION"};
  Subscription sub;
  sub.id = "sub-1";
  sub.application_id = "app-1";
  sub.api_id = api->id;
  sub.throttling_policy = "Gold";
  sub.status = "UNBLOCKED";
  sub.throttle_key = "app-1:" + api->id;
  s->subscriptions["app-1"][api->id] = sub;
  s->policies = policies();
  return s;
}

// One request as the session hands it to the chain: parsed head, normalised path, raw query,
// client address, clock, and (for filters after routing) the route already matched.
struct Call {
  ClientRequest head;
  RequestContext ctx;
};

inline std::unique_ptr<Call> call(
    std::shared_ptr<const Snapshot> snapshot, std::string_view method, std::string_view target,
    std::initializer_list<std::pair<std::string_view, std::string_view>> headers = {}) {
  auto c = std::make_unique<Call>();
  // Through the session's own scanner, as a request off the wire.
  std::string raw = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    raw += std::string(name) + ": " + std::string(value) + "\r\n";
    has_host = has_host || name == "Host" || name == "host";
  }
  if (!has_host) raw += "Host: gateway.test\r\n";
  raw += "\r\n";
  http::detail::RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan(raw), http::detail::RequestHeadScanner::Status::kComplete)
      << scanner.error().description;
  c->head.assign(raw, scanner);
  RequestContext& ctx = c->ctx;
  ctx.snapshot = std::move(snapshot);
  ctx.revoked = std::make_shared<RevokedTokens>();
  ctx.request = &c->head;
  ctx.method = c->head.method_string();
  std::string_view t = c->head.target();
  auto question = t.find('?');
  ctx.path = normalize_path(t.substr(0, question)).value_or("/");
  if (question != std::string_view::npos) ctx.query = t.substr(question + 1);
  ctx.client_ip = kClientIp;
  ctx.now_ms = kNowMs;
  ctx.started = std::chrono::steady_clock::now();
  ctx.route = match_route(*ctx.snapshot, ctx.method, ctx.path);
  return c;
}

inline FilterStatus run(Filter& filter, RequestContext& ctx) {
  return filter.on_request(ctx, [] { ADD_FAILURE() << "resume() called without a pause"; });
}

// Every value of a reply header, in order.
inline std::vector<std::string> reply_headers(const LocalReply& reply, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : reply.headers) {
    if (n == name) out.push_back(v);
  }
  return out;
}

inline std::optional<std::string> reply_header(const LocalReply& reply, std::string_view name) {
  auto all = reply_headers(reply, name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

// The values the session will add under `name`, in order.
inline std::vector<std::string> added(const std::vector<HeaderEdit>& edits, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& e : edits) {
    if (!e.remove && e.name == name) out.push_back(e.value);
  }
  return out;
}

inline bool removed(const std::vector<HeaderEdit>& edits, std::string_view name) {
  for (const auto& e : edits) {
    if (e.remove && e.name == name) return true;
  }
  return false;
}

// A principal as the Authenticator would return it for an OAuth token of client-prod.
inline std::shared_ptr<Principal> oauth_principal(bool application_user = true,
                                                  std::vector<std::string> scopes = {}) {
  auto p = std::make_shared<Principal>();
  p->kind = Principal::Kind::kJwt;
  p->jti = "jti-1";
  p->client_id = "client-prod";
  p->application_user = application_user;
  if (application_user) p->user = "carol";
  p->scopes = std::move(scopes);
  p->expires_at = kNow + 3600;
  return p;
}

// What authentication leaves in the context for that principal.
inline void authenticated(RequestContext& ctx, std::shared_ptr<Principal> principal,
                          std::string_view key_type = "PRODUCTION") {
  ctx.principal = std::move(principal);
  ctx.application = &ctx.snapshot->applications.at("app-1");
  ctx.key_type = key_type;
  ctx.user = ctx.principal->user.empty() ? std::string_view(ctx.application->owner)
                                         : std::string_view(ctx.principal->user);
}

// The control plane as the Authenticator sees it: the JWKS, token introspection and the user
// check. A status of 0 stands for "unreachable".
class FakeControlPlane : public ControlPlane {
 public:
  ControlPlaneResponse call(std::string_view method, std::string_view path, std::string_view,
                            std::string_view body, bool) override {
    std::lock_guard lock(mutex);
    if (path == "/oauth2/jwks" && method == "GET") return {200, jwks};
    if (path == "/oauth2/introspect") {
      if (down) return {0, ""};
      for (const auto& [token, answer] : introspection) {
        if (body == "token=" + token) return {200, answer};
      }
      return {200, R"({"active":false})"};
    }
    if (path == "/internal/data/v1/users/authenticate") {
      if (down) return {0, ""};
      auto request = boost::json::parse(body).as_object();
      auto it = users.find(std::string(request.at("username").as_string()));
      if (it == users.end() || it->second.first != request.at("password").as_string())
        return {401, R"({"code":900901})"};
      boost::json::array roles;
      for (const auto& r : it->second.second) roles.emplace_back(r);
      return {200, boost::json::serialize(
                       boost::json::object{{"username", it->first}, {"roles", roles}})};
    }
    if (auto item = items.find(std::string(path)); item != items.end()) return {200, item->second};
    return {404, ""};
  }

  std::mutex mutex;
  std::string jwks;
  bool down = false;
  std::map<std::string, std::string> introspection;  // token → answer
  std::map<std::string, std::string> items;          // path → body (per-item reads)
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> users;
};

// An RSA key per kid, made once per test run: generating one takes a good part of a second.
inline const jwt::SigningKey& shared_key(const std::string& kid) {
  static std::map<std::string, jwt::SigningKey> keys;
  auto it = keys.find(kid);
  if (it == keys.end())
    it = keys.emplace(kid, jwt::SigningKey::generate(jwt::Algorithm::RS256, kid)).first;
  return it->second;
}

// A real Authenticator on a fake control plane, with the Key Manager's signing key, and an
// io_context standing for the session's thread.
class AuthEnvironment {
 public:
  AuthEnvironment()
      : key_(shared_key("km-1")), authenticator_(AuthenticatorOptions{}, control_plane_, worker_) {
    control_plane_.jwks = R"({"keys":[)" + key_.public_jwk_json() + "]}";
    EXPECT_TRUE(authenticator_.load_jwks());
  }

  Authenticator& authenticator() { return authenticator_; }
  FakeControlPlane& control_plane() { return control_plane_; }
  boost::asio::io_context& io() { return io_; }
  const jwt::SigningKey& key() const { return key_; }

  // An access token as the Key Manager issues it; `edit` changes claims.
  std::string token(std::function<void(boost::json::object&)> edit = {}) const {
    boost::json::object claims{{"iss", "https://km.example/oauth2/token"},
                               {"sub", "carol"},
                               {"aut", "APPLICATION_USER"},
                               {"aud", "client-prod"},
                               {"client_id", "client-prod"},
                               {"scope", "read write"},
                               {"jti", crypto::uuid_v4()},
                               {"iat", kNow},
                               {"exp", kNow + 3600}};
    if (edit) edit(claims);
    return key_.encode(boost::json::serialize(claims));
  }

  // An API key as the Developer Portal issues it.
  std::string api_key(std::function<void(boost::json::object&)> edit = {}) const {
    boost::json::object claims{
        {"iss", "https://km.example/oauth2/token"},
        {"sub", "bob"},
        {"keytype", "PRODUCTION"},
        {"token_type", "apiKey"},
        {"application",
         boost::json::object{
             {"id", "app-1"}, {"uuid", "app-1"}, {"name", "shop"}, {"owner", "bob"}}},
        {"jti", crypto::uuid_v4()},
        {"iat", kNow},
        {"exp", kNow + 3600}};
    if (edit) edit(claims);
    return key_.encode(boost::json::serialize(claims));
  }

  // Runs the session's thread until `done` or a few seconds have passed.
  bool run_until(const std::function<bool()>& done) {
    // The last guard's release stopped the context: it runs nothing until restarted.
    io_.restart();
    auto guard = boost::asio::make_work_guard(io_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(std::chrono::milliseconds(20));
    return done();
  }

 private:
  jwt::SigningKey key_;
  FakeControlPlane control_plane_;
  boost::asio::io_context io_;  // outlives the worker, which may still post to it
  ControlPlaneWorker worker_;
  Authenticator authenticator_;
};

}  // namespace portico::gateway::filter_test
