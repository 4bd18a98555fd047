#pragma once
// Issues, validates, introspects and revokes tokens: the grants of RFC 6749 (with PKCE,
// RFC 7636, and refresh-token rotation per RFC 9700 §4.14), RFC 7662 and RFC 7009.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "common/config.h"
#include "events/event_bus.h"
#include "keymanager/clients.h"
#include "keymanager/key_ring.h"
#include "keymanager/users.h"
#include "store/tokens_repository.h"

namespace portico::keymanager {

using Form = std::multimap<std::string, std::string>;

struct IssuedToken {
  std::string access_token;
  std::string refresh_token;  // empty when none is issued
  std::string scope;
  std::int64_t expires_in = 0;
};

// What a valid access token says.
struct TokenInfo {
  std::string subject;
  std::string client_id;
  std::string scope;
  std::string jti;
  std::string key_type;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  std::string token_type;  // JWT or OAUTH
  std::string user_type;   // APPLICATION or APPLICATION_USER (the JWTs' `aut`)
};

class TokenService {
 public:
  TokenService(const Config& config, store::Database& db, KeyRing& keys, Clients& clients,
               Users& users, events::EventBus& bus);

  // The token endpoint. `basic_client` holds client_id and secret from an Authorization:
  // Basic header, when one was sent; `source` is the caller's address (login throttling).
  // Throws OAuthError; a locked client is invalid_client, a locked user invalid_grant.
  IssuedToken token(const Form& form,
                    const std::optional<std::pair<std::string, std::string>>& basic_client,
                    std::string_view source);

  // Issues an access token to a client without a grant round trip (the developer portal's
  // "generate token"). `lifetime` 0 means the client's or the configured default.
  IssuedToken issue_for_client(const store::ClientRecord& client, const std::string& scope,
                               std::int64_t lifetime);

  // The authorization endpoint's decision, once the user has logged in: a single-use code.
  // `sent_redirect_uri` is the redirect_uri of the request, empty when it had none.
  std::string create_authorization_code(const store::ClientRecord& client,
                                        const store::UserRecord& user,
                                        const std::string& sent_redirect_uri,
                                        const std::string& requested_scope,
                                        const std::string& code_challenge);

  // A valid (signature, expiry, not revoked) access token's facts, or nullopt.
  std::optional<TokenInfo> validate(const std::string& access_token);
  // Client authentication of the token and revocation endpoints: HTTP Basic or
  // client_id/client_secret in the body (not both); a public client sends client_id alone.
  store::ClientRecord authenticate_client(
      const Form& form, const std::optional<std::pair<std::string, std::string>>& basic,
      std::string_view source);

  // The RFC 7662 response body for any token (access or refresh). `only_client`, when set,
  // is the calling client: another client's token answers inactive (RFC 7662 §4).
  std::string introspect(const std::string& token,
                         const std::optional<std::string>& only_client = std::nullopt);
  // RFC 7009: revokes a token the client owns; unknown tokens are ignored.
  void revoke(const store::ClientRecord& client, const std::string& token);
  // Ends every grant of the user (deleted, or their password changed): their refresh tokens
  // and unexpired access tokens are revoked, and gateways told. Application tokens
  // (client_credentials) are the application's and stay.
  void revoke_user_grants(const std::string& username);

  // Scopes the subject may get: syntax-checked (invalid_scope); REST scopes and role-bound
  // API scopes left out unless the roles allow them; unknown scopes refused (invalid_scope);
  // "default" when nothing is left. Tokens also lose REST scopes their client is not trusted
  // with (see client_scopes).
  std::string grant_scopes(const std::string& requested,
                           const std::vector<std::string>& roles) const;
  // How the key manager learns the scopes APIs define (the KeyManager sets it to the
  // cluster's database, see api_scopes.h): the roles a scope is bound to (empty: any role),
  // nullopt when no API defines it.
  using ApiScopeLookup =
      std::function<std::optional<std::vector<std::string>>(const std::string& scope)>;
  void set_api_scope_lookup(ApiScopeLookup lookup);

 private:
  // What an access token (and maybe a refresh token) is issued for.
  struct Grant {
    std::string subject;
    std::string scope;
    bool user_token = false;  // the subject signed in (APPLICATION_USER), not only the client
    bool with_refresh = false;
    std::string family_id = {};           // the grant's id; empty for an application token
    std::int64_t refresh_expires_at = 0;  // the family's absolute end; 0: a new family
  };
  IssuedToken issue(const store::ClientRecord& client, const Grant& grant, std::int64_t lifetime);
  // grant_scopes, then without the REST API scopes (apim:*) unless an administrator trusts
  // the client: a client anyone may register must not collect an administrator's scopes.
  std::string client_scopes(const store::ClientRecord& client, const std::string& requested,
                            const std::vector<std::string>& roles) const;
  // A grant's scopes again at refresh: only those the subject's roles and the client still
  // allow; scopes no longer known are dropped rather than refused.
  std::string reevaluate_scopes(const store::ClientRecord& client, const std::string& scope,
                                const std::vector<std::string>& roles) const;
  // Tells gateways of access tokens a bulk revocation revoked.
  void announce(const std::vector<store::RevokedAccessToken>& revoked);
  IssuedToken client_credentials(const store::ClientRecord& client, const Form& form);
  IssuedToken password(const store::ClientRecord& client, const Form& form,
                       std::string_view source);
  IssuedToken refresh(const store::ClientRecord& client, const Form& form);
  IssuedToken authorization_code(const store::ClientRecord& client, const Form& form);
  std::vector<std::string> roles_of(const std::string& username);

  const Config& config_;
  store::TokensRepository tokens_;
  KeyRing& keys_;
  Clients& clients_;
  Users& users_;
  events::EventBus& bus_;
  ApiScopeLookup api_scope_roles_;
};

}  // namespace portico::keymanager
