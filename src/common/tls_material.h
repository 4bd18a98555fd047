#pragma once
// Self-signed TLS material for first start, as the reference ships a default keystore.
#include <string>

namespace portico {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// Returns the configured files when both are set (throws std::runtime_error if either is
// unreadable); otherwise makes sure <data_dir>/tls/server.crt and server.key exist,
// generating a self-signed ECDSA P-256 certificate for localhost and 127.0.0.1 (valid 825
// days) the first time. The key file is created with mode 0600.
TlsFiles ensure_tls_material(const std::string& data_dir, const std::string& cert_file,
                             const std::string& key_file);

}  // namespace portico
