#pragma once
// The token-signing keys: the active private key, parsed once, and the public keys of
// retired ones still inside their retention time (published in the JWKS).
#include <atomic>
#include <chrono>
#include <cstdint>
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
  // A token with a kid the ring does not know reloads it from the database at most once per
  // `unknown_kid_reload_interval`, so that tokens with made-up kids cannot hammer the database.
  KeyRing(store::Database& db, jwt::Algorithm algorithm, int rotation_days,
          KeyEncryption encryption = KeyEncryption(),
          std::chrono::seconds unknown_kid_reload_interval = std::chrono::seconds(5));

  // Loads the stored keys; creates the first key, or rotates one older than the rotation
  // period; seals keys stored in the clear before encryption was configured. Call once at
  // start; safe when several nodes start on one database at once. Throws KeyEncryptionError
  // when a sealed key does not open.
  void load();
  // Replaces the active key now (serialised across the cluster); the old public key stays in
  // the JWKS while tokens it signed can still be valid. Returns the new key's kid.
  std::string rotate();
  // Reads the stored keys again: another node or `portico keys rotate` changed them.
  void reload();

  // The key new tokens are signed with.
  std::shared_ptr<const jwt::SigningKey> active() const;
  // The public key with that kid, or nullptr. An unknown kid may be a key another process
  // created since the last load: the ring reloads (rate-limited) before answering nullptr.
  std::shared_ptr<const jwt::VerificationKey> find(const std::string& kid);
  // {"keys": [...]} with every current public key, built when the keys change.
  std::shared_ptr<const std::string> jwks_json() const;

 private:
  struct State {
    std::shared_ptr<const jwt::SigningKey> active;
    std::vector<std::shared_ptr<const jwt::VerificationKey>> public_keys;
    std::shared_ptr<const std::string> jwks;
  };
  std::shared_ptr<const jwt::VerificationKey> find_loaded(const std::string& kid) const;
  void open_and_seal(const std::vector<store::SigningKeyRecord>& keys);
  std::shared_ptr<const State> state() const;

  store::SigningKeysRepository repository_;
  KeyEncryption encryption_;
  jwt::Algorithm algorithm_;
  int rotation_days_;
  std::chrono::seconds unknown_kid_reload_interval_;
  // steady-clock seconds of the last reload an unknown kid caused; min() before the first
  std::atomic<std::int64_t> last_unknown_kid_reload_{INT64_MIN};
  mutable std::mutex mutex_;
  std::shared_ptr<const State> state_;
};

}  // namespace portico::keymanager
