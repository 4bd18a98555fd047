#include "keymanager/credential_cache.h"

#include "common/crypto.h"

namespace portico::keymanager {

bool CredentialCache::verify(std::string_view stored_hash, std::string_view secret) {
  if (stored_hash.empty()) return false;
  std::string material;
  material.reserve(stored_hash.size() + 1 + secret.size());
  material.append(stored_hash).push_back('\0');
  material.append(secret);
  auto key = crypto::sha256(material);
  if (verified_.get(key)) return true;
  if (!crypto::verify_secret(stored_hash, secret)) return false;
  verified_.put(key, true);
  return true;
}

}  // namespace portico::keymanager
