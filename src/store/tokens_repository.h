#pragma once
// Token state the Key Manager keeps: refresh tokens (with rotation families),
// authorization codes, opaque access tokens, the access tokens of users and revoked JWT ids.
// Secrets are stored only as SHA-256 hashes (they are high-entropy random values).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct RefreshTokenRecord {
  std::string token_hash;
  std::string family_id;  // every refresh token descended from one grant shares it
  std::string client_id;
  std::string subject;
  std::string scope;  // space-separated
  std::int64_t expires_at = 0;
  bool used = false;
  bool revoked = false;
};

struct AuthorizationCodeRecord {
  std::string code_hash;
  std::string client_id;
  std::string subject;
  std::string redirect_uri;
  std::string scope;
  std::string code_challenge;  // S256 challenge; empty when none was sent
  std::int64_t expires_at = 0;
  std::string family_id = {};  // the grant of the tokens issued for it, once it is used
};

// What presenting an authorization code found.
enum class CodeOutcome { claimed, unknown, replayed };

struct OpaqueTokenRecord {
  std::string token_hash;
  std::string jti;
  std::string client_id;
  std::string subject;
  std::string scope;
  std::string key_type;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  bool revoked = false;
  std::string user_type = "APPLICATION";  // or APPLICATION_USER, as a JWT's `aut`
};

// An access token issued to a user, kept until it expires so that it can be revoked with
// its user or its grant.
struct UserAccessTokenRecord {
  std::string jti;
  std::string family_id;  // the grant: refresh-token family or authorization code
  std::string client_id;
  std::string subject;
  std::int64_t expires_at = 0;
};

// An access token a bulk revocation just revoked, to be announced to gateways.
struct RevokedAccessToken {
  std::string jti;
  std::string client_id;
  std::int64_t expires_at = 0;
};

// What consuming a refresh token found.
enum class RefreshOutcome { consumed, unknown, expired, replayed_family_revoked };

class TokensRepository {
 public:
  explicit TokensRepository(Database& db) : db_(db) {}

  void store_refresh_token(const RefreshTokenRecord& token);
  std::optional<RefreshTokenRecord> find_refresh_token(const std::string& token_hash);
  // Atomically marks an unused, unrevoked, unexpired refresh token used and returns it in
  // `out`. A token already used (or revoked) is a replay: the whole family is revoked.
  RefreshOutcome consume_refresh_token(const std::string& token_hash, std::int64_t now,
                                       RefreshTokenRecord& out);
  void revoke_refresh_family(const std::string& family_id);

  void store_authorization_code(const AuthorizationCodeRecord& code);
  // Marks an unused code used by the grant `family_id` and returns it in `out` (claimed).
  // A code used before is a replay: it is marked so and returned with the family of its
  // first use (replayed). Codes are kept until they expire.
  CodeOutcome claim_authorization_code(const std::string& code_hash, const std::string& family_id,
                                       AuthorizationCodeRecord& out);
  // Whether the code was presented again after its first use (a replay racing the first
  // exchange must still end the grant that exchange creates).
  bool is_authorization_code_replayed(const std::string& code_hash);

  void store_opaque_token(const OpaqueTokenRecord& token);
  std::optional<OpaqueTokenRecord> find_opaque_token(const std::string& token_hash);
  bool revoke_opaque_token(const std::string& token_hash);

  void store_user_access_token(const UserAccessTokenRecord& token);
  // Revokes every refresh token and unexpired access token of the user (by subject) or of
  // one grant (by family), in one transaction: refresh tokens and opaque tokens are marked
  // revoked, every access token's jti is added to the revoked ones. Returns the access
  // tokens revoked, for the gateways.
  std::vector<RevokedAccessToken> revoke_user_tokens(const std::string& subject, std::int64_t now);
  std::vector<RevokedAccessToken> revoke_grant(const std::string& family_id, std::int64_t now);

  // Revoked JWT ids, kept until the token would have expired anyway.
  void revoke_jti(const std::string& jti, std::int64_t expires_at, std::int64_t now);
  bool is_jti_revoked(const std::string& jti);
  // Revocations whose tokens are still unexpired, for gateways' start-up.
  std::vector<std::pair<std::string, std::int64_t>> list_revoked_jtis(std::int64_t now);

  // Deletes expired codes, tokens and revocations (a revocation once its token has expired);
  // returns the rows removed. Safe when several nodes run it at once.
  int purge_expired(std::int64_t now);

 private:
  Database& db_;
};

}  // namespace portico::store
