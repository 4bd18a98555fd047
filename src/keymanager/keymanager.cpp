#include "keymanager/keymanager.h"

#include <algorithm>
#include <future>

#include <boost/json.hpp>

#include "common/api_error.h"
#include "events/event_types.h"
#include "keymanager/oauth_error.h"
#include "keymanager/routes.h"
#include "keymanager/scopes.h"

namespace portico::keymanager {
namespace {

namespace json = boost::json;

jwt::Algorithm configured_algorithm(const Config& config) {
  return *jwt::parse_algorithm(config.oauth.signing_algorithm);  // validated by the config
}

ApiError invalid_credentials() {
  ApiError e(401, 900901, "Invalid Credentials",
             "Invalid credentials. Make sure you have provided the correct security "
             "credentials");
  e.headers["WWW-Authenticate"] = "Basic realm=\"portico\", Bearer realm=\"portico\"";
  return e;
}

ThrottlePolicy throttle_policy(const SecurityConfig& s) {
  ThrottlePolicy p;
  p.max_failures = s.max_failed_logins;
  p.max_failures_per_address = s.max_failed_logins_per_address;
  p.lockout = std::chrono::seconds(s.lockout_seconds);
  p.lockout_max = std::chrono::seconds(std::max(s.lockout_seconds, s.lockout_max_seconds));
  return p;
}

}  // namespace

bool Principal::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

KeyManager::KeyManager(const Config& config, store::Database& db, events::EventBus& bus)
    : config_(config),
      bus_(bus),
      hashing_(config.security.hash_threads, static_cast<std::size_t>(config.security.hash_queue)),
      throttle_(throttle_policy(config.security), db),
      users_(db, std::chrono::seconds(config.oauth.credential_cache_seconds),
             std::chrono::seconds(config.oauth.lookup_cache_seconds), hashing_, throttle_),
      clients_(db, std::chrono::seconds(config.oauth.credential_cache_seconds),
               std::chrono::seconds(config.oauth.lookup_cache_seconds), hashing_, throttle_),
      keys_(db, configured_algorithm(config), config.oauth.signing_key_rotation_days,
            KeyEncryption(config.security.key_encryption_key)),
      api_scopes_(db, std::chrono::seconds(config.oauth.lookup_cache_seconds)),
      tokens_(config, db, keys_, clients_, users_, bus),
      gateway_credentials_(db),
      purger_(db, std::chrono::seconds(config.oauth.purge_interval_seconds),
              throttle_.policy().lockout_max) {
  tokens_.set_api_scope_lookup(
      [this](const std::string& scope) { return api_scopes_.roles(scope); });
  clients_.on_change([this](const std::string& client_id) {
    bus_.publish(std::string(events::types::kOAuthClientUpdated),
                 json::serialize(json::object{{"client_id", client_id}}));
  });
}

void KeyManager::initialize() {
  // The administrator's argon2id hash and a first signing key are both slow on purpose or by
  // nature (about 0.1 s and 0.2 s); doing them side by side halves a first start.
  auto admin = std::async(std::launch::async, [this] {
    users_.ensure_admin(config_.admin.username, config_.admin.password);
  });
  keys_.load();
  admin.get();
  bus_.subscribe([this](const events::Event& event) { apply_cluster_event(event); });
  purger_.start();
}

std::string KeyManager::rotate_signing_key() {
  std::string kid = keys_.rotate();
  bus_.publish(std::string(events::types::kSigningKeyRotated),
               json::serialize(json::object{{"kid", kid}}));
  return kid;
}

void KeyManager::register_routes(http::Router& router) {
  add_oauth_routes(*this, router);
  add_authorize_routes(*this, router);
  add_registration_routes(*this, router);
}

Principal KeyManager::authenticate(const http::Request& request) {
  auto header = request.headers.get("Authorization");
  if (!header || header->empty()) {
    ApiError e(401, 900902, "Missing Credentials",
               "Make sure your request has an Authorization header with Basic or Bearer "
               "credentials");
    e.headers["WWW-Authenticate"] = "Basic realm=\"portico\", Bearer realm=\"portico\"";
    throw e;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (header->size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), header->begin(),
                 [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    auto info = tokens_.validate(std::string(header->substr(kBearer.size())));
    if (!info) throw invalid_credentials();
    auto user = users_.find(info->subject);
    if (!user) throw invalid_credentials();
    Principal p{user->username, user->roles, {}, info->client_id};
    // A token keeps only the scopes its subject's roles still grant.
    auto allowed = scopes_for_roles(user->roles);
    for (auto& s : split_scopes(info->scope))
      if (allowed.count(s) || !is_rest_api_scope(s)) p.scopes.insert(s);
    return p;
  }
  std::optional<std::pair<std::string, std::string>> basic;
  try {
    basic = basic_credentials(request);
  } catch (const OAuthError&) {
    throw invalid_credentials();
  }
  if (!basic) throw invalid_credentials();
  auto user = users_.authenticate(basic->first, basic->second, request.remote_address);
  if (!user) throw invalid_credentials();
  return Principal{user->username, user->roles, scopes_for_roles(user->roles), {}};
}

Principal KeyManager::authorize(const http::Request& request, std::string_view scope) {
  auto principal = authenticate(request);
  if (!principal.has_scope(scope))
    throw ApiError(
        403, 900910, "Forbidden",
        "The caller lacks the scope " + std::string(scope) + " that this operation requires");
  return principal;
}

}  // namespace portico::keymanager
