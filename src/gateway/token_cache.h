#pragma once
// The authenticator's caches: answers keyed by a salted SHA-256 of the presented credential,
// so that a cache never holds a token or a password, and a hit costs one hash and one lookup.
// A TokenCache belongs to one thread (an I/O thread, or the control-plane worker) and takes no
// lock; the Authenticator keeps one per thread.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

namespace portico::gateway {

struct Principal;

// SHA-256 over salt || domain || credential. The salt is random per Authenticator: a memory
// dump of the caches does not let anyone test guesses of passwords or tokens offline, and the
// domain byte keeps a bearer token, an API key and a Basic credential with the same text apart.
using TokenKey = std::array<unsigned char, 32>;

struct TokenKeyHash {
  std::size_t operator()(const TokenKey& key) const {
    // The key is already a uniform hash: its first bytes are as good as any.
    std::size_t h;
    std::memcpy(&h, key.data(), sizeof h);
    return h;
  }
};

class TokenHasher {
 public:
  explicit TokenHasher(std::string_view salt) : salt_(salt) {}

  // False only when OpenSSL fails (out of memory); the caller then skips the cache.
  bool hash(unsigned char domain, std::string_view credential, TokenKey& out) const {
    // One digest context per thread, reused: no allocation per request after the first.
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                             &EVP_MD_CTX_free);
    // Fetched once: a legacy EVP_sha256() would be fetched again, under a lock, on every init.
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    unsigned int len = 0;
    return ctx && md != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
           EVP_DigestUpdate(ctx.get(), salt_.data(), salt_.size()) == 1 &&
           EVP_DigestUpdate(ctx.get(), &domain, 1) == 1 &&
           EVP_DigestUpdate(ctx.get(), credential.data(), credential.size()) == 1 &&
           EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
  }

 private:
  std::string_view salt_;  // owned by the Authenticator
};

// One cached answer: a principal, or (principal null) a refusal that is not worth asking
// about again for a while.
struct CacheEntry {
  std::shared_ptr<const Principal> principal;
  std::int64_t until = 0;        // unix seconds; the answer holds while now < until
  std::uint64_t generation = 0;  // the key set (JWT) or user-deletion count (Basic) it saw
  std::string_view detail;       // static text of a refusal
};

// A bounded map from TokenKey to CacheEntry for one thread. When full, it drops the expired
// entries, and if that is not enough, an eighth of the capacity in hash order (arbitrary
// entries): a sweep costs O(capacity) but runs at most once per capacity/8 insertions.
class TokenCache {
 public:
  explicit TokenCache(std::size_t capacity) : capacity_(capacity) {}

  // The live entry for `key`, or null. An expired entry is dropped on the way.
  const CacheEntry* find(const TokenKey& key, std::int64_t now) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    if (it->second.until <= now) {
      map_.erase(it);
      return nullptr;
    }
    return &it->second;
  }

  void insert(const TokenKey& key, CacheEntry entry, std::int64_t now) {
    if (capacity_ == 0 || entry.until <= now) return;
    if (map_.size() >= capacity_ && map_.find(key) == map_.end()) make_room(now);
    map_.insert_or_assign(key, std::move(entry));
  }

  void erase(const TokenKey& key) { map_.erase(key); }
  void clear() { map_.clear(); }
  std::size_t size() const { return map_.size(); }

  // Drops every entry `drop(entry)` says to (used when users are deleted).
  template <class Predicate>
  void erase_if(Predicate drop) {
    std::erase_if(map_, [&](const auto& item) { return drop(item.second); });
  }

 private:
  void make_room(std::int64_t now) {
    std::erase_if(map_, [now](const auto& item) { return item.second.until <= now; });
    std::size_t target = capacity_ - std::max<std::size_t>(1, capacity_ / 8);
    for (auto it = map_.begin(); it != map_.end() && map_.size() > target;) it = map_.erase(it);
  }

  std::size_t capacity_;
  std::unordered_map<TokenKey, CacheEntry, TokenKeyHash> map_;
};

}  // namespace portico::gateway
