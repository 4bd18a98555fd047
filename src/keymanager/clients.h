#pragma once
// OAuth 2.0 clients: registration (secrets generated here, stored argon2id-hashed and shown
// once), authentication at the token endpoint, secret regeneration.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keymanager/credential_cache.h"
#include "keymanager/expiring_cache.h"
#include "store/clients_repository.h"

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
          std::chrono::seconds lookup_cache_ttl)
      : repository_(db), secrets_(credential_cache_ttl), records_(lookup_cache_ttl) {}

  // ApiError 400 naming the field when the registration is not valid.
  RegisteredClient register_client(const ClientRegistration& registration);
  std::optional<store::ClientRecord> find(const std::string& client_id);
  // A confidential client whose secret matches, or a public client presenting no secret.
  std::optional<store::ClientRecord> authenticate(const std::string& client_id,
                                                  const std::string& client_secret);
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

 private:
  store::ClientsRepository repository_;
  CredentialCache secrets_;
  ExpiringCache<std::string, store::ClientRecord> records_;
};

// ApiError 400 when a registration's fields are not valid.
void validate_registration(const ClientRegistration& registration);

}  // namespace portico::keymanager
