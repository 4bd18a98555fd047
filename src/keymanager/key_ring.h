#pragma once
// The token-signing keys: the active private key, parsed once, and the public keys of
// retired ones still inside their retention time (published in the JWKS).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/jwt.h"
#include "common/key_encryption.h"
#include "store/signing_keys_repository.h"

namespace portico::keymanager {

class KeyRing {
 public:
  // Private keys are stored sealed by `encryption` when it is enabled.
  KeyRing(store::Database& db, jwt::Algorithm algorithm, int rotation_days,
          KeyEncryption encryption = KeyEncryption());

  // Loads the stored keys; creates the first key, or rotates one older than the rotation
  // period; seals keys stored in the clear before encryption was configured. Call once at
  // start. Throws KeyEncryptionError when a sealed key does not open.
  void load();
  // Replaces the active key now; the old public key stays in the JWKS while tokens it
  // signed can still be valid.
  void rotate();

  // The key new tokens are signed with.
  std::shared_ptr<const jwt::SigningKey> active() const;
  // The public key with that kid, or nullptr.
  std::shared_ptr<const jwt::VerificationKey> find(const std::string& kid) const;
  // {"keys": [...]} with every current public key, built when the keys change.
  std::shared_ptr<const std::string> jwks_json() const;

 private:
  struct State {
    std::shared_ptr<const jwt::SigningKey> active;
    std::vector<std::shared_ptr<const jwt::VerificationKey>> public_keys;
    std::shared_ptr<const std::string> jwks;
  };
  void reload();
  void open_and_seal(const std::vector<store::SigningKeyRecord>& keys);
  std::shared_ptr<const State> state() const;

  store::SigningKeysRepository repository_;
  KeyEncryption encryption_;
  jwt::Algorithm algorithm_;
  int rotation_days_;
  mutable std::mutex mutex_;
  std::shared_ptr<const State> state_;
};

}  // namespace portico::keymanager
