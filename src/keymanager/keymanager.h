#pragma once
// The Key Manager: OAuth 2.0 authorization server (token, authorize, revoke, introspect,
// JWKS, metadata, client registration) and the internal user store. Other components use
// this header only: to authenticate REST callers and to register clients for applications.
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/bounded_pool.h"
#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/api_scopes.h"
#include "keymanager/clients.h"
#include "keymanager/key_ring.h"
#include "keymanager/login_throttle.h"
#include "keymanager/purger.h"
#include "keymanager/token_service.h"
#include "keymanager/users.h"
#include "store/database.h"
#include "store/gateway_credentials_repository.h"

namespace portico::keymanager {

// Who is calling a REST API, and what they may do.
struct Principal {
  std::string username;
  std::vector<std::string> roles;
  std::set<std::string> scopes;
  std::string client_id;  // the OAuth client, when authenticated by a token

  bool has_scope(std::string_view scope) const { return scopes.count(std::string(scope)) > 0; }
  bool has_role(std::string_view role) const;
};

// Whether the request carries the gateways' [internal_api] credential in HTTP Basic; an
// empty configured password refuses everyone. The comparison's time tells nothing of the
// credential, its length included.
bool is_internal_credential(const http::Request& request, const InternalApiConfig& expected);

// User names of per-gateway credentials (admin's gateway-credentials API) start with this.
inline constexpr std::string_view kGatewayCredentialPrefix = "gw-";

// A gateway, known by the HTTP Basic credential of its request.
struct GatewayCaller {
  // Its own credential (admin's gateway-credentials); nullopt for the shared [internal_api] one.
  std::optional<store::GatewayCredentialRecord> own;
};

class KeyManager {
 public:
  KeyManager(const Config& config, store::Database& db, events::EventBus& bus);

  // First start: the administrator and the signing key; rotates a key past its age. Safe when
  // several nodes start on one database at once. Then follows the cluster's events, so that
  // what another node changes (signing key, clients, users, API scopes) is not served stale,
  // and starts purging expired tokens every oauth.purge_interval_seconds.
  void initialize();
  // Stops the purge of expired tokens (started by initialize()); the destructor does too.
  void stop_purging() { purger_.stop(); }
  // Replaces the active signing key and tells every node; returns the new kid.
  std::string rotate_signing_key();
  // Adds the OAuth 2.0 and client-registration endpoints.
  void register_routes(http::Router& router);

  // The caller of a REST API, from HTTP Basic or an OAuth 2.0 bearer token.
  // ApiError 401 (900902 missing, 900901 invalid credentials, 17003 account locked) otherwise.
  Principal authenticate(const http::Request& request);
  // As authenticate(), then ApiError 403 unless the caller holds `scope`.
  Principal authorize(const http::Request& request, std::string_view scope);
  // The gateway whose credential the request carries: the shared [internal_api] one or a live
  // per-gateway credential; nullopt for anyone else. The internal data API and introspection
  // both ask this.
  std::optional<GatewayCaller> authenticate_gateway(const http::Request& request);

  Users& users() { return users_; }
  Clients& clients() { return clients_; }
  TokenService& tokens() { return tokens_; }
  KeyRing& keys() { return keys_; }
  ApiScopes& api_scopes() { return api_scopes_; }
  const Config& config() const { return config_; }

  // Runs the password hashes still queued, then stops the hashing threads. Call after the
  // HTTP servers stopped and before they are destroyed: a finished hash resumes its request
  // on the server's thread.
  void stop_hashing() { hashing_.stop(); }

 private:
  // Drops what `event` says is stale (see initialize()).
  void apply_cluster_event(const events::Event& event);

  const Config& config_;
  events::EventBus& bus_;
  BoundedPool hashing_;  // every argon2id hash and verification, never an I/O thread
  LoginThrottle throttle_;
  Users users_;
  Clients clients_;
  KeyRing keys_;
  ApiScopes api_scopes_;
  TokenService tokens_;
  store::GatewayCredentialsRepository gateway_credentials_;
  Purger purger_;  // last: its thread stops before the rest goes
};

}  // namespace portico::keymanager
