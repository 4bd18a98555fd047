#pragma once
// OAuth 2.0 clients: registration (secrets generated here, shown once, stored as an HMAC under
// a key shared by the cluster), authentication at the token endpoint, secret regeneration.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keymanager/credential_cache.h"
#include "keymanager/expiring_cache.h"
#include "keymanager/login_throttle.h"
#include "store/clients_repository.h"
#include "store/cluster_secrets_repository.h"

namespace portico::keymanager {

inline constexpr std::string_view kGrantClientCredentials = "client_credentials";
inline constexpr std::string_view kGrantPassword = "password";
inline constexpr std::string_view kGrantRefreshToken = "refresh_token";
inline constexpr std::string_view kGrantAuthorizationCode = "authorization_code";

// The longest access-token lifetime a client may ask for; retired signing keys are kept
// this long so that every token they signed can still be verified.
inline constexpr std::int64_t kMaxAccessTokenLifetime = 365LL * 24 * 3600;

struct ClientRegistration {
  std::string name;
  std::string owner;
  std::vector<std::string> grant_types;
  std::vector<std::string> redirect_uris;
  std::string token_type = "JWT";  // JWT or OAUTH
  bool public_client = false;
  std::string application_id;
  std::string application_name;
  std::string application_tier;
  std::string key_type = "PRODUCTION";
  std::int64_t access_token_lifetime = 0;  // 0: the configured default
  bool trusted = false;                    // may carry REST API scopes; set by an administrator
};

struct RegisteredClient {
  store::ClientRecord record;
  std::string client_secret;  // empty for a public client; never retrievable again
};

class Clients {
 public:
  Clients(store::Database& db, std::chrono::seconds credential_cache_ttl,
          std::chrono::seconds lookup_cache_ttl, BoundedPool& hashing, LoginThrottle& throttle)
      : repository_(db),
        cluster_secrets_(db),
        legacy_secrets_(credential_cache_ttl, hashing),
        records_(lookup_cache_ttl),
        throttle_(throttle) {}

  // ApiError 400 naming the field when the registration is not valid.
  RegisteredClient register_client(const ClientRegistration& registration);
  std::optional<store::ClientRecord> find(const std::string& client_id);
  // A confidential client whose secret matches, or a public client presenting no secret.
  // `source` is the caller's address. AccountLocked, before any check, when the client or
  // the address is locked; a wrong secret counts towards both, a right one clears the client.
  std::optional<store::ClientRecord> authenticate(const std::string& client_id,
                                                  const std::string& client_secret,
                                                  std::string_view source);
  // A new secret for a confidential client (the old one stops working); nullopt if unknown.
  std::optional<std::string> regenerate_secret(const std::string& client_id);
  // Validates and stores new grant types, redirect URIs and lifetime.
  store::ClientRecord update(const std::string& client_id, const ClientRegistration& changes);
  // The application facts tokens carry (name, tier, token type) after the application
  // changed; false when there is no such client.
  bool update_application(const std::string& client_id, const std::string& application_name,
                          const std::string& application_tier, const std::string& token_type);
  bool remove(const std::string& client_id);
  // Whether the client's tokens may carry REST API scopes (an administrator's decision);
  // nullopt when there is no such client.
  std::optional<store::ClientRecord> set_trusted(const std::string& client_id, bool trusted);

  // Called with the client's id after each change made here, so that other nodes can be told
  // (their cached record is stale). Set once, before serving.
  void on_change(std::function<void(const std::string& client_id)> listener) {
    on_change_ = std::move(listener);
  }
  // Drops the cached record: another node changed the client.
  void forget(const std::string& client_id) { records_.erase(client_id); }

 private:
  void changed(const std::string& client_id);
  // "$hmac-sha256$" + base64url(HMAC(cluster key, secret)): a generated secret has 256 bits of
  // entropy, so a keyed hash is as safe as argon2id and costs microseconds, not a pool slot.
  std::string secret_hash(std::string_view secret);
  bool secret_matches(store::ClientRecord& client, const std::string& secret);
  const std::string& hmac_key();

  store::ClientsRepository repository_;
  store::ClusterSecretsRepository cluster_secrets_;
  CredentialCache legacy_secrets_;  // argon2id hashes stored before the HMAC
  ExpiringCache<std::string, store::ClientRecord> records_;
  LoginThrottle& throttle_;
  std::mutex key_mutex_;
  std::string hmac_key_;  // loaded on first use
  std::function<void(const std::string&)> on_change_;
};

// ApiError 400 when a registration's fields are not valid.
void validate_registration(const ClientRegistration& registration);

}  // namespace portico::keymanager
