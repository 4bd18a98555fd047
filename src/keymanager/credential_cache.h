#pragma once
// Verifies a secret against its argon2id hash on the hashing pool (never on an I/O thread, see
// http::offload) and remembers a success for a while: argon2id is slow on purpose (tens of
// milliseconds), and without this a client would pay that on every token request. The key
// covers the stored hash too, so a changed secret or password never matches an old entry.
#include <chrono>
#include <string>
#include <string_view>

#include "keymanager/expiring_cache.h"

namespace portico {
class BoundedPool;
}

namespace portico::keymanager {

class CredentialCache {
 public:
  CredentialCache(std::chrono::seconds ttl, BoundedPool& hashing)
      : verified_(ttl), hashing_(hashing) {}

  // Verifies `secret` against the argon2id `stored_hash`, remembering a success. ApiError 503
  // when the hashing pool's queue is full.
  bool verify(std::string_view stored_hash, std::string_view secret);

 private:
  ExpiringCache<std::string, bool> verified_;  // key: SHA-256(stored hash, secret)
  BoundedPool& hashing_;
};

}  // namespace portico::keymanager
