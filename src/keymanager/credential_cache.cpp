#include "keymanager/credential_cache.h"

#include "common/crypto.h"

namespace portico::keymanager {

std::string CredentialCache::key(std::string_view stored_hash, std::string_view secret) {
  std::string material;
  material.reserve(stored_hash.size() + 1 + secret.size());
  material.append(stored_hash).push_back('\0');
  material.append(secret);
  return crypto::sha256(material);
}

bool CredentialCache::verified_before(std::string_view stored_hash, std::string_view secret) {
  if (ttl_.count() == 0) return false;
  auto k = key(stored_hash, secret);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(k);
  if (it == entries_.end()) return false;
  if (it->second < Clock::now()) {
    entries_.erase(it);
    return false;
  }
  return true;
}

void CredentialCache::remember(std::string_view stored_hash, std::string_view secret) {
  if (ttl_.count() == 0) return;
  auto k = key(stored_hash, secret);
  auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries_) {
    std::erase_if(entries_, [&](auto& e) { return e.second < now; });
    if (entries_.size() >= max_entries_) entries_.clear();  // bounded memory beats hit rate
  }
  entries_[k] = now + ttl_;
}

bool verify_with_cache(CredentialCache& cache, std::string_view stored_hash,
                       std::string_view secret) {
  if (stored_hash.empty()) return false;
  if (cache.verified_before(stored_hash, secret)) return true;
  if (!crypto::verify_secret(stored_hash, secret)) return false;
  cache.remember(stored_hash, secret);
  return true;
}

}  // namespace portico::keymanager
