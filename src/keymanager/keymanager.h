#pragma once
// The Key Manager: OAuth 2.0 authorization server (token, authorize, revoke, introspect,
// JWKS, metadata, client registration) and the internal user store. Other components use
// this header only: to authenticate REST callers and to register clients for applications.
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/bounded_pool.h"
#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/clients.h"
#include "keymanager/key_ring.h"
#include "keymanager/login_throttle.h"
#include "keymanager/token_service.h"
#include "keymanager/users.h"
#include "store/database.h"

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

class KeyManager {
 public:
  KeyManager(const Config& config, store::Database& db, events::EventBus& bus);

  // First start: the administrator and the signing key; rotates a key past its age.
  void initialize();
  // Adds the OAuth 2.0 and client-registration endpoints.
  void register_routes(http::Router& router);

  // The caller of a REST API, from HTTP Basic or an OAuth 2.0 bearer token.
  // ApiError 401 (900902 missing, 900901 invalid credentials, 17003 account locked) otherwise.
  Principal authenticate(const http::Request& request);
  // As authenticate(), then ApiError 403 unless the caller holds `scope`.
  Principal authorize(const http::Request& request, std::string_view scope);

  Users& users() { return users_; }
  Clients& clients() { return clients_; }
  TokenService& tokens() { return tokens_; }
  KeyRing& keys() { return keys_; }
  const Config& config() const { return config_; }

  // Runs the password hashes still queued, then stops the hashing threads. Call after the
  // HTTP servers stopped and before they are destroyed: a finished hash resumes its request
  // on the server's thread.
  void stop_hashing() { hashing_.stop(); }

 private:
  const Config& config_;
  BoundedPool hashing_;  // every argon2id hash and verification, never an I/O thread
  LoginThrottle throttle_;
  Users users_;
  Clients clients_;
  KeyRing keys_;
  TokenService tokens_;
};

}  // namespace portico::keymanager
