#pragma once
// Token state the Key Manager keeps: refresh tokens (with rotation families),
// authorization codes, opaque access tokens and revoked JWT ids. Secrets are stored only
// as SHA-256 hashes (they are high-entropy random values).
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
};

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
  // Deletes and returns the code (single use); nullopt when unknown or already used.
  std::optional<AuthorizationCodeRecord> take_authorization_code(const std::string& code_hash);

  void store_opaque_token(const OpaqueTokenRecord& token);
  std::optional<OpaqueTokenRecord> find_opaque_token(const std::string& token_hash);
  bool revoke_opaque_token(const std::string& token_hash);

  // Revoked JWT ids, kept until the token would have expired anyway.
  void revoke_jti(const std::string& jti, std::int64_t expires_at, std::int64_t now);
  bool is_jti_revoked(const std::string& jti);
  // Revocations whose tokens are still unexpired, for gateways' start-up.
  std::vector<std::pair<std::string, std::int64_t>> list_revoked_jtis(std::int64_t now);

  // Deletes expired codes, tokens and revocations; returns the rows removed.
  int purge_expired(std::int64_t now);

 private:
  Database& db_;
};

}  // namespace portico::store
