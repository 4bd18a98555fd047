#include "keymanager/token_service.h"

#include <boost/json.hpp>

#include <algorithm>

#include "common/clock.h"
#include "common/crypto.h"
#include "events/event_types.h"
#include "keymanager/oauth_error.h"
#include "keymanager/scopes.h"

namespace json = boost::json;

namespace portico::keymanager {
namespace {

constexpr std::int64_t kClockSkewLeeway = 60;  // seconds, for nbf
constexpr std::size_t kMaxParameterLength = 8192;

// RFC 6749 §3.2: parameters must not be repeated; every value is bounded.
std::optional<std::string> single(const Form& form, const std::string& name) {
  auto [first, last] = form.equal_range(name);
  if (first == last) return std::nullopt;
  if (std::next(first) != last)
    throw OAuthError::invalid_request("parameter '" + name + "' is repeated");
  if (first->second.size() > kMaxParameterLength)
    throw OAuthError::invalid_request("parameter '" + name + "' is too long");
  return first->second;
}

std::string required(const Form& form, const std::string& name) {
  auto value = single(form, name);
  if (!value || value->empty())
    throw OAuthError::invalid_request("parameter '" + name + "' is required");
  return *value;
}

bool has_grant(const store::ClientRecord& client, std::string_view grant) {
  return std::find(client.grant_types.begin(), client.grant_types.end(), grant) !=
         client.grant_types.end();
}

void require_grant(const store::ClientRecord& client, std::string_view grant) {
  if (!has_grant(client, grant))
    throw OAuthError::unauthorized_client("the client may not use the " + std::string(grant) +
                                          " grant");
}

// RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
bool is_valid_code_verifier(const std::string& v) {
  if (v.size() < 43 || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

std::int64_t int_claim(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return 0;
}

std::string string_claim(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

constexpr std::string_view kApplication = "APPLICATION";
constexpr std::string_view kApplicationUser = "APPLICATION_USER";

}  // namespace

TokenService::TokenService(const Config& config, store::Database& db, KeyRing& keys,
                           Clients& clients, Users& users, events::EventBus& bus)
    : config_(config),
      tokens_(db),
      keys_(keys),
      clients_(clients),
      users_(users),
      bus_(bus),
      api_scope_roles_([](const std::string&) { return std::nullopt; }) {}

void TokenService::set_api_scope_lookup(ApiScopeLookup lookup) {
  api_scope_roles_ = std::move(lookup);
}

std::vector<std::string> TokenService::roles_of(const std::string& username) {
  auto user = users_.find(username);
  return user ? user->roles : std::vector<std::string>{};
}

std::string TokenService::grant_scopes(const std::string& requested,
                                       const std::vector<std::string>& roles) const {
  std::set<std::string> granted;
  std::set<std::string> allowed_rest_scopes;
  bool rest_scopes_computed = false;
  for (auto& scope : split_scopes(requested)) {
    if (!is_valid_scope_token(scope))
      throw OAuthError::invalid_scope("scope '" + scope + "' is malformed");
    if (is_rest_api_scope(scope)) {
      // As the reference does, REST API scopes the roles do not grant are left out rather
      // than refused, so that a portal may ask for every scope it could use.
      if (!rest_scopes_computed) {
        allowed_rest_scopes = scopes_for_roles(roles);
        rest_scopes_computed = true;
      }
      if (allowed_rest_scopes.count(scope)) granted.insert(scope);
    } else if (scope == "default" || scope == "openid") {
      granted.insert(scope);
    } else if (auto bound = api_scope_roles_(scope)) {
      // The reference's scope bindings: a scope bound to roles goes only to their holders,
      // and, like a REST scope, is left out for anyone else.
      bool allowed = bound->empty() || std::any_of(bound->begin(), bound->end(), [&](auto& r) {
                       return std::find(roles.begin(), roles.end(), r) != roles.end();
                     });
      if (allowed) granted.insert(scope);
    } else {
      throw OAuthError::invalid_scope("scope '" + scope + "' is not known");
    }
  }
  if (granted.empty()) granted.insert("default");
  return join_scopes(granted);
}

std::string TokenService::client_scopes(const store::ClientRecord& client,
                                        const std::string& requested,
                                        const std::vector<std::string>& roles) const {
  if (client.trusted) return grant_scopes(requested, roles);
  std::string kept;
  for (auto& scope : split_scopes(requested))
    if (!is_rest_api_scope(scope)) kept += (kept.empty() ? "" : " ") + scope;
  return grant_scopes(kept, roles);
}

std::string TokenService::reevaluate_scopes(const store::ClientRecord& client,
                                            const std::string& scope,
                                            const std::vector<std::string>& roles) const {
  std::set<std::string> kept;
  for (auto& s : split_scopes(scope)) {
    try {
      if (client_scopes(client, s, roles) == s) kept.insert(s);
    } catch (const OAuthError&) {
      // An API scope deleted since the grant: no longer granted.
    }
  }
  if (kept.empty()) kept.insert("default");
  return join_scopes(kept);
}

store::ClientRecord TokenService::authenticate_client(
    const Form& form, const std::optional<std::pair<std::string, std::string>>& basic,
    std::string_view source) {
  auto form_id = single(form, "client_id");
  auto form_secret = single(form, "client_secret");
  if (basic && form_secret)
    throw OAuthError::invalid_request("client credentials sent both in the header and the body");
  std::string id = basic ? basic->first : form_id.value_or("");
  std::string secret = basic ? basic->second : form_secret.value_or("");
  if (basic && form_id && *form_id != basic->first)
    throw OAuthError::invalid_request("client_id differs from the authenticated client");
  if (id.empty()) throw OAuthError::invalid_client("client authentication is required");
  std::optional<store::ClientRecord> client;
  try {
    client = clients_.authenticate(id, secret, source);
  } catch (const AccountLocked& e) {
    throw OAuthError::invalid_client(e.description);
  }
  if (!client) throw OAuthError::invalid_client("client authentication failed");
  return *client;
}

IssuedToken TokenService::token(
    const Form& form, const std::optional<std::pair<std::string, std::string>>& basic_client,
    std::string_view source) {
  auto grant_type = single(form, "grant_type");
  if (!grant_type || grant_type->empty())
    throw OAuthError::invalid_request("parameter 'grant_type' is required");
  auto client = authenticate_client(form, basic_client, source);
  if (*grant_type == kGrantClientCredentials) return client_credentials(client, form);
  if (*grant_type == kGrantPassword) return password(client, form, source);
  if (*grant_type == kGrantRefreshToken) return refresh(client, form);
  if (*grant_type == kGrantAuthorizationCode) return authorization_code(client, form);
  throw OAuthError::unsupported_grant_type("grant type '" + *grant_type + "' is not supported");
}

IssuedToken TokenService::client_credentials(const store::ClientRecord& client, const Form& form) {
  require_grant(client, kGrantClientCredentials);
  if (client.public_client)
    throw OAuthError::unauthorized_client("a public client cannot use client_credentials");
  auto scope = client_scopes(client, single(form, "scope").value_or(""), roles_of(client.owner));
  // RFC 6749 §4.4.3: no refresh token for client credentials.
  return issue(client, Grant{.subject = client.owner, .scope = scope}, 0);
}

IssuedToken TokenService::password(const store::ClientRecord& client, const Form& form,
                                   std::string_view source) {
  require_grant(client, kGrantPassword);
  auto username = required(form, "username");
  auto pass = required(form, "password");
  std::optional<store::UserRecord> user;
  try {
    user = users_.authenticate(username, pass, source);
  } catch (const AccountLocked& e) {
    throw OAuthError::invalid_grant(e.description);
  }
  if (!user) throw OAuthError::invalid_grant("the username or password is not valid");
  auto scope = client_scopes(client, single(form, "scope").value_or(""), user->roles);
  return issue(client,
               Grant{.subject = user->username,
                     .scope = scope,
                     .user_token = true,
                     .with_refresh = has_grant(client, kGrantRefreshToken),
                     .family_id = crypto::uuid_v4()},
               0);
}

IssuedToken TokenService::refresh(const store::ClientRecord& client, const Form& form) {
  require_grant(client, kGrantRefreshToken);
  auto hash = crypto::sha256_hex(required(form, "refresh_token"));
  auto stored = tokens_.find_refresh_token(hash);
  // A refresh token is bound to its client (RFC 6749 §6): another client's attempt neither
  // succeeds nor burns the token.
  if (!stored || stored->client_id != client.client_id)
    throw OAuthError::invalid_grant("the refresh token is not valid");
  // The grant is its user's: it ends with them, and its scopes are what their roles (and the
  // client's trust) allow now, not when it began.
  auto user = users_.find(stored->subject);
  if (!user) throw OAuthError::invalid_grant("the user of this grant no longer exists");
  // The requested scope is checked before the token is consumed: a refused request must
  // change nothing (RFC 6749 §5.2), and consuming first would turn the retry into a replay.
  std::string scope;
  if (auto requested = single(form, "scope"); requested && !requested->empty()) {
    auto original = split_scopes(stored->scope);
    for (auto& s : split_scopes(*requested))
      if (std::find(original.begin(), original.end(), s) == original.end())
        throw OAuthError::invalid_scope("scope '" + s + "' exceeds the original grant");
    scope = client_scopes(client, *requested, user->roles);
  } else {
    scope = reevaluate_scopes(client, stored->scope, user->roles);
  }
  store::RefreshTokenRecord consumed;
  switch (tokens_.consume_refresh_token(hash, unix_now(), consumed)) {
    case store::RefreshOutcome::consumed:
      break;
    case store::RefreshOutcome::expired:
      throw OAuthError::invalid_grant("the refresh token has expired");
    case store::RefreshOutcome::replayed_family_revoked:
      // The refresh tokens are revoked already; the access tokens of the grant go too.
      announce(tokens_.revoke_grant(stored->family_id, unix_now()));
      throw OAuthError::invalid_grant(
          "the refresh token was already used; every token of its grant is revoked");
    case store::RefreshOutcome::unknown:
      throw OAuthError::invalid_grant("the refresh token is not valid");
  }
  // Rotation does not extend the grant: the new refresh token ends when the first one of its
  // family does.
  auto issued = issue(client,
                      Grant{.subject = consumed.subject,
                            .scope = scope,
                            .user_token = true,
                            .with_refresh = true,
                            .family_id = consumed.family_id,
                            .refresh_expires_at = consumed.expires_at},
                      0);
  // A replay of the same token, or the end of the user's grants, racing this request may have
  // revoked the family before the new tokens were stored. This request consumed the token
  // first and keeps its answer, but its tokens must not outlive the family's revocation.
  if (auto now_stored = tokens_.find_refresh_token(hash); now_stored && now_stored->revoked)
    announce(tokens_.revoke_grant(consumed.family_id, unix_now()));
  return issued;
}

IssuedToken TokenService::authorization_code(const store::ClientRecord& client, const Form& form) {
  require_grant(client, kGrantAuthorizationCode);
  auto code_hash = crypto::sha256_hex(required(form, "code"));
  std::string family_id = crypto::uuid_v4();
  store::AuthorizationCodeRecord stored_code;
  switch (tokens_.claim_authorization_code(code_hash, family_id, stored_code)) {
    case store::CodeOutcome::claimed:
      break;
    case store::CodeOutcome::unknown:
      throw OAuthError::invalid_grant("the authorization code is not valid");
    case store::CodeOutcome::replayed:
      // RFC 6749 §4.1.2: a code used twice may have been stolen; the tokens issued for it
      // are revoked, access and refresh.
      if (!stored_code.family_id.empty())
        announce(tokens_.revoke_grant(stored_code.family_id, unix_now()));
      throw OAuthError::invalid_grant(
          "the authorization code was already used; the tokens issued for it are revoked");
  }
  const auto& code = stored_code;
  if (code.client_id != client.client_id)
    throw OAuthError::invalid_grant("the authorization code is not valid");
  if (code.expires_at <= unix_now())
    throw OAuthError::invalid_grant("the authorization code has expired");
  // RFC 6749 §4.1.3: redirect_uri must be present, and identical, when the authorization
  // request included it (the stored value is empty when it did not).
  auto redirect_uri = single(form, "redirect_uri");
  if (!code.redirect_uri.empty() ? redirect_uri != code.redirect_uri
                                 : redirect_uri && (client.redirect_uris.size() != 1 ||
                                                    *redirect_uri != client.redirect_uris[0]))
    throw OAuthError::invalid_grant("redirect_uri does not match the authorization request");
  auto verifier = single(form, "code_verifier");
  if (!code.code_challenge.empty()) {
    if (!verifier || !is_valid_code_verifier(*verifier))
      throw OAuthError::invalid_grant("a valid code_verifier is required");
    auto computed = crypto::base64url_encode(crypto::sha256(*verifier));
    if (!crypto::constant_time_equal(computed, code.code_challenge))
      throw OAuthError::invalid_grant("code_verifier does not match the code challenge");
  } else if (verifier) {
    throw OAuthError::invalid_grant("no code challenge was sent for this code");
  }
  auto issued = issue(client,
                      Grant{.subject = code.subject,
                            .scope = code.scope,
                            .user_token = true,
                            .with_refresh = has_grant(client, kGrantRefreshToken),
                            .family_id = family_id},
                      0);
  // A replay racing this exchange found no tokens to revoke yet; these are revoked now.
  if (tokens_.is_authorization_code_replayed(code_hash))
    announce(tokens_.revoke_grant(family_id, unix_now()));
  return issued;
}

IssuedToken TokenService::issue_for_client(const store::ClientRecord& client,
                                           const std::string& scope, std::int64_t lifetime) {
  return issue(
      client,
      Grant{.subject = client.owner, .scope = client_scopes(client, scope, roles_of(client.owner))},
      lifetime);
}

std::string TokenService::create_authorization_code(const store::ClientRecord& client,
                                                    const store::UserRecord& user,
                                                    const std::string& sent_redirect_uri,
                                                    const std::string& requested_scope,
                                                    const std::string& code_challenge) {
  std::string code = crypto::random_token();
  store::AuthorizationCodeRecord record;
  record.code_hash = crypto::sha256_hex(code);
  record.client_id = client.client_id;
  record.subject = user.username;
  record.redirect_uri = sent_redirect_uri;
  record.scope = client_scopes(client, requested_scope, user.roles);
  record.code_challenge = code_challenge;
  record.expires_at = unix_now() + config_.oauth.authorization_code_lifetime_seconds;
  tokens_.store_authorization_code(record);
  return code;
}

IssuedToken TokenService::issue(const store::ClientRecord& client, const Grant& grant,
                                std::int64_t lifetime) {
  const std::string& subject = grant.subject;
  const std::string& scope = grant.scope;
  if (lifetime <= 0) lifetime = client.access_token_lifetime;
  if (lifetime <= 0) lifetime = config_.oauth.access_token_lifetime_seconds;
  lifetime = std::min(lifetime, kMaxAccessTokenLifetime);
  auto now = unix_now();
  auto jti = crypto::uuid_v4();
  IssuedToken out;
  out.scope = scope;
  out.expires_in = lifetime;
  if (client.token_type == "OAUTH") {
    out.access_token = crypto::random_token();
    store::OpaqueTokenRecord record;
    record.token_hash = crypto::sha256_hex(out.access_token);
    record.jti = jti;
    record.client_id = client.client_id;
    record.subject = subject;
    record.scope = scope;
    record.key_type = client.key_type;
    record.issued_at = now;
    record.expires_at = now + lifetime;
    record.user_type = grant.user_token ? kApplicationUser : kApplication;
    tokens_.store_opaque_token(record);
  } else {
    json::object claims;
    claims["iss"] = config_.issuer();
    claims["sub"] = subject;
    claims["aud"] = client.client_id;
    claims["azp"] = client.client_id;
    claims["client_id"] = client.client_id;
    claims["scope"] = scope;
    claims["aut"] = grant.user_token ? kApplicationUser : kApplication;
    claims["keytype"] = client.key_type;
    claims["iat"] = now;
    claims["nbf"] = now;
    claims["exp"] = now + lifetime;
    claims["jti"] = jti;
    if (!client.application_id.empty()) {
      claims["application"] = json::object{{"uuid", client.application_id},
                                           {"id", client.application_id},
                                           {"name", client.application_name},
                                           {"owner", client.owner},
                                           {"tier", client.application_tier}};
    }
    out.access_token = keys_.active()->encode(json::serialize(claims));
  }
  std::string family_id = grant.family_id;
  if (family_id.empty() && (grant.user_token || grant.with_refresh)) family_id = crypto::uuid_v4();
  if (grant.user_token) {
    // Kept so that the token can be revoked with its user or its grant.
    tokens_.store_user_access_token({jti, family_id, client.client_id, subject, now + lifetime});
  }
  if (grant.with_refresh) {
    out.refresh_token = crypto::random_token();
    store::RefreshTokenRecord record;
    record.token_hash = crypto::sha256_hex(out.refresh_token);
    record.family_id = family_id;
    record.client_id = client.client_id;
    record.subject = subject;
    record.scope = scope;
    record.expires_at = grant.refresh_expires_at > 0
                            ? grant.refresh_expires_at
                            : now + config_.oauth.refresh_token_lifetime_seconds;
    tokens_.store_refresh_token(record);
  }
  return out;
}

std::optional<TokenInfo> TokenService::validate(const std::string& access_token) {
  auto now = unix_now();
  if (std::count(access_token.begin(), access_token.end(), '.') == 2) {
    auto decoded = jwt::decode(access_token);
    if (!decoded) return std::nullopt;
    auto key = keys_.find(decoded->kid);
    if (!key || !jwt::verify_signature(*decoded, *key)) return std::nullopt;
    boost::system::error_code ec;
    auto payload = json::parse(decoded->payload_json, ec);
    if (ec || !payload.is_object()) return std::nullopt;
    auto& claims = payload.as_object();
    TokenInfo info;
    info.subject = string_claim(claims, "sub");
    info.client_id = string_claim(claims, "client_id");
    info.scope = string_claim(claims, "scope");
    info.jti = string_claim(claims, "jti");
    info.key_type = string_claim(claims, "keytype");
    info.issued_at = int_claim(claims, "iat");
    info.expires_at = int_claim(claims, "exp");
    info.token_type = "JWT";
    info.user_type = string_claim(claims, "aut");
    if (string_claim(claims, "iss") != config_.issuer()) return std::nullopt;
    // An API key is signed by the same keys but is for the gateway only: it is no access
    // token here (the control plane, introspection). Access tokens name their client.
    if (string_claim(claims, "token_type") == "apiKey" || info.client_id.empty())
      return std::nullopt;
    if (info.expires_at <= now) return std::nullopt;
    if (int_claim(claims, "nbf") > now + kClockSkewLeeway) return std::nullopt;
    if (info.jti.empty() || tokens_.is_jti_revoked(info.jti)) return std::nullopt;
    return info;
  }
  auto stored = tokens_.find_opaque_token(crypto::sha256_hex(access_token));
  if (!stored || stored->revoked || stored->expires_at <= now) return std::nullopt;
  return TokenInfo{stored->subject,    stored->client_id, stored->scope,
                   stored->jti,        stored->key_type,  stored->issued_at,
                   stored->expires_at, "OAUTH",           stored->user_type};
}

std::string TokenService::introspect(const std::string& token,
                                     const std::optional<std::string>& only_client) {
  constexpr std::string_view kInactive = R"({"active":false})";
  auto hidden = [&](const std::string& client_id) {
    return only_client && *only_client != client_id;
  };
  auto active = [](const std::string& subject, const std::string& client_id,
                   const std::string& scope, std::int64_t expires_at, std::string_view type) {
    return json::object{{"active", true},      {"scope", scope}, {"client_id", client_id},
                        {"username", subject}, {"sub", subject}, {"token_type", type},
                        {"exp", expires_at}};
  };
  if (auto info = validate(token)) {
    if (hidden(info->client_id)) return std::string(kInactive);
    auto out = active(info->subject, info->client_id, info->scope, info->expires_at, "Bearer");
    out["iat"] = info->issued_at;
    out["nbf"] = info->issued_at;
    out["jti"] = info->jti;
    out["aud"] = info->client_id;
    out["iss"] = config_.issuer();
    out["keytype"] = info->key_type;
    // Whether a user signed in: the gateway checks a resource's authType with it.
    out["aut"] = info->user_type.empty() ? kApplication : std::string_view(info->user_type);
    return json::serialize(out);
  }
  auto refresh = tokens_.find_refresh_token(crypto::sha256_hex(token));
  if (refresh && !refresh->used && !refresh->revoked && refresh->expires_at > unix_now() &&
      !hidden(refresh->client_id))
    return json::serialize(active(refresh->subject, refresh->client_id, refresh->scope,
                                  refresh->expires_at, "refresh_token"));
  return std::string(kInactive);
}

void TokenService::announce(const std::vector<store::RevokedAccessToken>& revoked) {
  for (const auto& token : revoked) {
    json::object event{
        {"jti", token.jti}, {"expires_at", token.expires_at}, {"client_id", token.client_id}};
    bus_.publish(std::string(events::types::kTokenRevoked), json::serialize(event));
  }
}

void TokenService::revoke_user_grants(const std::string& username) {
  announce(tokens_.revoke_user_tokens(username, unix_now()));
}

void TokenService::revoke(const store::ClientRecord& client, const std::string& token) {
  auto hash = crypto::sha256_hex(token);
  if (auto refresh = tokens_.find_refresh_token(hash)) {
    // RFC 7009 §2.1: the access tokens of the same grant go with it.
    if (refresh->client_id == client.client_id)
      announce(tokens_.revoke_grant(refresh->family_id, unix_now()));
    return;
  }
  auto publish = [&](const std::string& jti, std::int64_t expires_at) {
    tokens_.revoke_jti(jti, expires_at, unix_now());
    json::object event{{"jti", jti}, {"expires_at", expires_at}, {"client_id", client.client_id}};
    bus_.publish(std::string(events::types::kTokenRevoked), json::serialize(event));
  };
  if (auto opaque = tokens_.find_opaque_token(hash)) {
    if (opaque->client_id != client.client_id) return;
    tokens_.revoke_opaque_token(hash);
    publish(opaque->jti, opaque->expires_at);
    return;
  }
  auto info = validate(token);
  if (info && info->client_id == client.client_id) publish(info->jti, info->expires_at);
}

}  // namespace portico::keymanager
