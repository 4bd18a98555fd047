#include "keymanager/credential_cache.h"

#include "common/crypto.h"
#include "http/message.h"

namespace portico::keymanager {

bool CredentialCache::verify(std::string_view stored_hash, std::string_view secret) {
  if (stored_hash.empty()) return false;
  std::string material;
  material.reserve(stored_hash.size() + 1 + secret.size());
  material.append(stored_hash).push_back('\0');
  material.append(secret);
  auto key = crypto::sha256(material);
  if (verified_.get(key)) return true;
  std::string outcome =
      http::offload(hashing_, "argon2id-verify:" + crypto::base64url_encode(key),
                    [hash = std::string(stored_hash), secret = std::string(secret)] {
                      return std::string(crypto::verify_secret(hash, secret) ? "1" : "0");
                    });
  if (outcome != "1") return false;
  verified_.put(key, true);
  return true;
}

}  // namespace portico::keymanager
