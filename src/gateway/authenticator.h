#pragma once
// Authentication of API calls: OAuth 2.0 JWT access tokens verified locally against the Key
// Manager's JWKS, opaque tokens through cached introspection, API keys (signed JWTs) and HTTP
// Basic. The request path asks try_now() first: a cache hit or a JWT whose key is known is
// answered without I/O. Only a miss that needs the control plane goes through resolve(),
// which does the I/O on the control-plane thread and posts the answer to the caller's
// executor. Basic checks (a password hash on the control plane) go through a thread of their
// own, so that a flood of them never holds up configuration pulls or token checks.
#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/control_plane.h"
#include "gateway/snapshot.h"

namespace portico::gateway {

// Who is calling, once a credential checked out.
struct Principal {
  enum class Kind : std::uint8_t { kJwt, kOpaque, kApiKey, kBasic };
  Kind kind = Kind::kJwt;
  std::string jti;                // token or API key id ("" for Basic): checked against revocations
  std::string client_id;          // OAuth client (consumer key); "" for API keys and Basic
  std::string application_id;     // from the API key's claims; for OAuth: via Snapshot::clients
  std::string key_type;           // PRODUCTION / SANDBOX ("" when the client mapping decides)
  std::string user;               // end user (sub); "" for application tokens
  bool application_user = false;  // aut APPLICATION_USER: the token carries an end user
  std::vector<std::string> scopes;
  std::vector<std::string> roles;  // Basic: the user's roles
  std::int64_t expires_at = 0;     // unix seconds; 0 for Basic
  boost::json::object claims;      // verified JWT claims (conditions, backend JWT); empty else
  // API keys: the reference's permittedIP / permittedReferer restrictions.
  std::string permitted_ip;
  std::string permitted_referer;
};

struct Credential {
  enum class Kind : std::uint8_t { kBearer, kApiKey, kBasic };
  Kind kind = Kind::kBearer;
  std::string_view value;      // the token, the API key, or the base64 of user:password
  std::string_view client_ip;  // Basic: the caller, whose failed logins the control plane counts
};

// AuthResult::detail of a Basic credential refused because the account or the caller's
// address is locked after too many failed logins (the control plane's code 17003).
inline constexpr std::string_view kAccountLockedDetail = "account locked";

struct AuthResult {
  enum class Status : std::uint8_t { kOk, kInvalid, kUnavailable };
  Status status = Status::kInvalid;
  std::shared_ptr<const Principal> principal;  // set when kOk
  std::string_view detail;                     // static text for logs when not kOk
};

struct AuthenticatorOptions {
  std::int64_t leeway_seconds = 60;        // exp/nbf
  std::string issuer;                      // expected iss; "" accepts any issuer
  std::int64_t jwks_refetch_seconds = 30;  // unknown kid: refetch at most this often
  std::int64_t introspection_cache_seconds = 900;
  std::int64_t basic_cache_seconds = 300;
  std::size_t cache_entries_per_thread = 100000;
};

class Authenticator {
 public:
  Authenticator(AuthenticatorOptions options, ControlPlane& control_plane,
                ControlPlaneWorker& worker);
  ~Authenticator();

  // Loads the JWKS (blocking; at start-up and from the worker). False when unreachable.
  bool load_jwks();
  // The snapshot file's JWKS, for a gateway started while the key manager is unreachable.
  // False when it is not a JWKS document (the current keys stay).
  bool load_jwks_document(const std::string& jwks);
  // The JWKS document the current keys came from ("" before any), for the snapshot file.
  std::string jwks_document() const;

  // Answers without I/O when it can (cache hit, JWT signed by a known key, malformed input);
  // nullopt when resolve() is needed. Call on an I/O thread; uses that thread's cache.
  std::optional<AuthResult> try_now(const Credential& credential, std::int64_t now);

  // Does the I/O a credential needs (JWKS refetch for an unknown kid, introspection, Basic
  // check), then posts `done` to `executor`. The credential's value is copied.
  void resolve(const Credential& credential, std::int64_t now,
               boost::asio::any_io_executor executor, std::function<void(AuthResult)> done);

  // A user was deleted: forget cached Basic credentials of that user (any thread).
  void forget_user(std::string_view username);

 private:
  void resolve_basic(const Credential& credential, std::int64_t now,
                     boost::asio::any_io_executor executor, std::function<void(AuthResult)> done);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::gateway
