#include "keymanager/clients.h"

#include <boost/url/parse.hpp>

#include <algorithm>

#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "http/message.h"

namespace portico::keymanager {
namespace {

constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxRedirectUris = 20;
constexpr std::size_t kMaxUriLength = 2048;
constexpr std::size_t kClientIdEntropyBytes = 21;  // 28 characters, like the reference's ids
constexpr std::string_view kHmacPrefix = "$hmac-sha256$";
constexpr std::string_view kLegacyPrefix = "$argon2id$";
constexpr const char* kHmacKeyName = "client_secret_hmac_key";

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

void validate_redirect_uri(const std::string& uri) {
  if (uri.size() > kMaxUriLength)
    throw ApiError::bad_request("redirect URI longer than 2048 characters");
  auto parsed = boost::urls::parse_absolute_uri(uri);
  if (!parsed) throw ApiError::bad_request("redirect URI '" + uri + "' is not an absolute URI");
  // RFC 6749 §3.1.2: the redirection endpoint URI must not include a fragment.
  if (parsed->has_fragment())
    throw ApiError::bad_request("redirect URI '" + uri + "' must not have a fragment");
}

}  // namespace

void validate_registration(const ClientRegistration& r) {
  if (r.name.empty() || r.name.size() > kMaxNameLength)
    throw ApiError::bad_request("client name must be 1 to 255 characters");
  if (r.grant_types.empty()) throw ApiError::bad_request("at least one grant type is required");
  for (auto& grant : r.grant_types) {
    if (grant != kGrantClientCredentials && grant != kGrantPassword &&
        grant != kGrantRefreshToken && grant != kGrantAuthorizationCode)
      throw ApiError::bad_request("unsupported grant type '" + grant + "'");
  }
  if (r.public_client &&
      (contains(r.grant_types, kGrantClientCredentials) || contains(r.grant_types, kGrantPassword)))
    throw ApiError::bad_request(
        "a public client cannot use the client_credentials or password grant");
  if (r.redirect_uris.size() > kMaxRedirectUris)
    throw ApiError::bad_request("at most 20 redirect URIs");
  for (auto& uri : r.redirect_uris) validate_redirect_uri(uri);
  if (contains(r.grant_types, kGrantAuthorizationCode) && r.redirect_uris.empty())
    throw ApiError::bad_request("the authorization_code grant needs a callback URL");
  if (r.token_type != "JWT" && r.token_type != "OAUTH")
    throw ApiError::bad_request("tokenType must be JWT or OAUTH");
  if (r.key_type != "PRODUCTION" && r.key_type != "SANDBOX")
    throw ApiError::bad_request("keyType must be PRODUCTION or SANDBOX");
  if (r.access_token_lifetime < 0 || r.access_token_lifetime > kMaxAccessTokenLifetime)
    throw ApiError::bad_request("token validity must be 0 to 31536000 seconds");
}

RegisteredClient Clients::register_client(const ClientRegistration& r) {
  validate_registration(r);
  RegisteredClient out;
  auto& c = out.record;
  c.client_id = crypto::random_token(kClientIdEntropyBytes);
  if (!r.public_client) {
    out.client_secret = crypto::random_token();
    c.secret_hash = secret_hash(out.client_secret);
  }
  c.name = r.name;
  c.owner = r.owner;
  c.grant_types = r.grant_types;
  c.redirect_uris = r.redirect_uris;
  c.token_type = r.token_type;
  c.public_client = r.public_client;
  c.application_id = r.application_id;
  c.application_name = r.application_name;
  c.application_tier = r.application_tier;
  c.key_type = r.key_type;
  c.access_token_lifetime = r.access_token_lifetime;
  c.trusted = r.trusted;
  c.created_at = unix_now();
  repository_.create(c);
  return out;
}

std::optional<store::ClientRecord> Clients::find(const std::string& client_id) {
  if (auto cached = records_.get(client_id)) return cached;
  auto client = repository_.find(client_id);
  if (client) records_.put(client_id, *client);
  return client;
}

const std::string& Clients::hmac_key() {
  std::lock_guard lock(key_mutex_);
  if (hmac_key_.empty()) {
    auto stored = cluster_secrets_.get_or_create(
        kHmacKeyName, crypto::base64url_encode(crypto::random_bytes(32)), unix_now());
    auto key = crypto::base64url_decode(stored);
    if (!key || key->size() < 32)
      throw std::runtime_error("the stored client-secret HMAC key is not 32 base64url bytes");
    hmac_key_ = std::move(*key);
  }
  return hmac_key_;
}

std::string Clients::secret_hash(std::string_view secret) {
  return std::string(kHmacPrefix) +
         crypto::base64url_encode(crypto::hmac_sha256(hmac_key(), secret));
}

bool Clients::secret_matches(store::ClientRecord& client, const std::string& secret) {
  if (client.secret_hash.starts_with(kHmacPrefix))
    return crypto::constant_time_equal(client.secret_hash, secret_hash(secret));
  if (!client.secret_hash.starts_with(kLegacyPrefix)) return false;
  if (!legacy_secrets_.verify(client.secret_hash, secret)) return false;
  // Verified the slow way once; stored the fast way from now on.
  client.secret_hash = secret_hash(secret);
  try {
    repository_.update(client);
  } catch (const std::exception& e) {
    spdlog::warn("client {}: rehashing its secret failed: {}", client.client_id, e.what());
  }
  records_.erase(client.client_id);
  return true;
}

std::optional<store::ClientRecord> Clients::authenticate(const std::string& client_id,
                                                         const std::string& client_secret,
                                                         std::string_view source) {
  if (client_id.empty() || client_id.size() > 256 || client_secret.size() > 1024)
    return std::nullopt;
  std::string account = "client:" + client_id;
  bool had_failures = throttle_.check(account, source);
  auto client = find(client_id);
  bool matches = false;
  if (client && client->public_client) {
    matches = client_secret.empty();  // nothing to guess; a secret sent to one is wrong
  } else if (client) {
    matches = secret_matches(*client, client_secret);
  }
  if (!matches) {
    if (http::first_time("failed:" + account)) throttle_.failed(account, source);
    return std::nullopt;
  }
  if (!client->public_client) throttle_.succeeded(account, had_failures);
  return client;
}

std::optional<std::string> Clients::regenerate_secret(const std::string& client_id) {
  auto client = repository_.find(client_id);
  if (!client || client->public_client) return std::nullopt;
  std::string secret = crypto::random_token();
  client->secret_hash = secret_hash(secret);
  repository_.update(*client);
  changed(client_id);
  return secret;
}

store::ClientRecord Clients::update(const std::string& client_id,
                                    const ClientRegistration& changes) {
  auto client = repository_.find(client_id);
  if (!client) throw ApiError::not_found("no client '" + client_id + "'");
  ClientRegistration merged = changes;
  merged.public_client = client->public_client;
  validate_registration(merged);
  client->grant_types = changes.grant_types;
  client->redirect_uris = changes.redirect_uris;
  client->access_token_lifetime = changes.access_token_lifetime;
  client->name = changes.name;
  repository_.update(*client);
  changed(client_id);
  return *client;
}

bool Clients::update_application(const std::string& client_id, const std::string& application_name,
                                 const std::string& application_tier,
                                 const std::string& token_type) {
  if (token_type != "JWT" && token_type != "OAUTH")
    throw ApiError::bad_request("tokenType must be JWT or OAUTH");
  auto client = repository_.find(client_id);
  if (!client) return false;
  client->application_name = application_name;
  client->application_tier = application_tier;
  client->token_type = token_type;
  repository_.update(*client);
  changed(client_id);
  return true;
}

std::optional<store::ClientRecord> Clients::set_trusted(const std::string& client_id,
                                                        bool trusted) {
  if (!repository_.set_trusted(client_id, trusted)) return std::nullopt;
  changed(client_id);
  return repository_.find(client_id);
}

bool Clients::remove(const std::string& client_id) {
  bool removed = repository_.remove(client_id);
  changed(client_id);
  return removed;
}

void Clients::changed(const std::string& client_id) {
  records_.erase(client_id);
  if (on_change_) on_change_(client_id);
}

}  // namespace portico::keymanager
