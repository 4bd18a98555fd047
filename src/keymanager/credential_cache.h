#pragma once
// Remembers, for a while, that a secret matched its argon2id hash. argon2id is slow on
// purpose (tens of milliseconds); without this a client would pay that on every token
// request. The key covers the stored hash too, so a changed secret or password never
// matches an old entry.
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace portico::keymanager {

class CredentialCache {
 public:
  explicit CredentialCache(std::chrono::seconds ttl, std::size_t max_entries = 10000)
      : ttl_(ttl), max_entries_(max_entries) {}

  bool verified_before(std::string_view stored_hash, std::string_view secret);
  void remember(std::string_view stored_hash, std::string_view secret);

 private:
  static std::string key(std::string_view stored_hash, std::string_view secret);
  using Clock = std::chrono::steady_clock;
  std::chrono::seconds ttl_;
  std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> entries_;
};

// Verifies `secret` against the argon2id `stored_hash`, through the cache.
bool verify_with_cache(CredentialCache& cache, std::string_view stored_hash,
                       std::string_view secret);

}  // namespace portico::keymanager
