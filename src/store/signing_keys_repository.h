#pragma once
// The Key Manager's token-signing keys. A retired key stays (public half in the JWKS)
// until every token it signed has expired.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct SigningKeyRecord {
  std::string kid;
  std::string algorithm;  // "RS256" / "ES256"
  std::string private_pem;
  std::int64_t created_at = 0;
  std::int64_t retired_at = 0;  // 0: the active key
  std::int64_t keep_until = 0;  // 0: no end; else drop from the JWKS after this time
};

class SigningKeysRepository {
 public:
  explicit SigningKeysRepository(Database& db) : db_(db) {}
  // Keys with keep_until == 0 or keep_until > now, newest first.
  std::vector<SigningKeyRecord> list_current(std::int64_t now);
  // In one transaction: retire the active key (retired_at = now, keep_until = now +
  // retain_seconds) and insert `fresh` as the new active key.
  // Rotations are serialised across the cluster, so that exactly one key is active after any
  // number of concurrent ones.
  void rotate(const SigningKeyRecord& fresh, std::int64_t now, std::int64_t retain_seconds);
  // As rotate(), when `needed` says so of the active key read under the rotation lock (nullptr
  // when there is none): of several nodes starting on an empty database, one creates the key
  // and the others find it. Returns whether it rotated.
  bool rotate_if(const SigningKeyRecord& fresh, std::int64_t now, std::int64_t retain_seconds,
                 const std::function<bool(const SigningKeyRecord* active)>& needed);
  // Replaces the stored private key of `kid` (sealing a key written before encryption).
  void replace_private_pem(const std::string& kid, const std::string& private_pem);
  // Deletes keys whose keep_until has passed; returns how many.
  int purge_expired(std::int64_t now);

 private:
  Database& db_;
};

}  // namespace portico::store
