#pragma once
// Private keys at rest (the token-signing keys in the database, the gateway's backend-JWT
// key, the generated TLS key), sealed with AES-256-GCM under a key derived with HKDF-SHA-256
// from security.key_encryption_key: a copy of the disk or of the database alone does not
// give them away. Values written before encryption was configured still open, so that a
// node can re-seal them at start.
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace portico {

// A sealed value that does not open: no key configured, or not the key that sealed it.
class KeyEncryptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class KeyEncryption {
 public:
  // Without a key: seal() returns the text as it is, open() refuses sealed values.
  KeyEncryption() = default;
  // Derives the AES key once; an empty `key_encryption_key` is the same as no key.
  explicit KeyEncryption(std::string_view key_encryption_key);
  ~KeyEncryption();
  KeyEncryption(const KeyEncryption&) = default;
  KeyEncryption& operator=(const KeyEncryption&) = default;

  bool enabled() const { return enabled_; }

  // "portico-sealed:v1:" + base64(nonce | ciphertext | tag). `context` names what the value
  // is (e.g. "signing-key:<kid>") and is authenticated with it, so that a sealed value moved
  // to another place does not open there. Without a key: `plaintext` unchanged.
  std::string seal(std::string_view plaintext, std::string_view context) const;
  // The plaintext of a sealed value, or `stored` unchanged when it is not sealed (written
  // before a key was configured). Throws KeyEncryptionError naming `what` when it is sealed
  // and there is no key or the key is not the one that sealed it.
  std::string open(std::string_view stored, std::string_view context, std::string_view what) const;

  static bool is_sealed(std::string_view stored);

 private:
  std::array<unsigned char, 32> key_{};
  bool enabled_ = false;
};

}  // namespace portico
