#pragma once
// Self-signed TLS material for first start, as the reference ships a default keystore.
#include <string>

#include "common/key_encryption.h"

namespace portico {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  // The generated key, decrypted, for listeners to load from memory (the file may be
  // sealed); empty for configured files, which listeners read themselves.
  std::string key_pem;
};

// Returns the configured files when both are set (throws std::runtime_error if either is
// unreadable); otherwise makes sure <data_dir>/tls/server.crt and server.key exist,
// generating a self-signed ECDSA P-256 certificate for localhost and 127.0.0.1 (valid 825
// days) the first time. Both files are created with mode 0600; with `encryption` enabled the
// key is stored sealed, and a plaintext key generated before is sealed in place.
TlsFiles ensure_tls_material(const std::string& data_dir, const std::string& cert_file,
                             const std::string& key_file,
                             const KeyEncryption& encryption = KeyEncryption());

}  // namespace portico
