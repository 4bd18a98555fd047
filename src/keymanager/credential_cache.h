#pragma once
// Remembers, for a while, that a secret matched its argon2id hash. argon2id is slow on
// purpose (tens of milliseconds); without this a client would pay that on every token
// request. The key covers the stored hash too, so a changed secret or password never
// matches an old entry.
#include <chrono>
#include <string>
#include <string_view>

#include "keymanager/expiring_cache.h"

namespace portico::keymanager {

class CredentialCache {
 public:
  explicit CredentialCache(std::chrono::seconds ttl) : verified_(ttl) {}

  // Verifies `secret` against the argon2id `stored_hash`, remembering a success.
  bool verify(std::string_view stored_hash, std::string_view secret);

 private:
  ExpiringCache<std::string, bool> verified_;  // key: SHA-256(stored hash, secret)
};

}  // namespace portico::keymanager
