#include "common/tls_material.h"

#include "common/openssl_handles.h"
#include "common/private_files.h"
#include "common/unique_fd.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace portico {
namespace {

namespace fs = std::filesystem;

constexpr long kValidDays = 825;  // the longest validity clients such as Apple's accept
constexpr const char* kSubjectAltName = "DNS:localhost,IP:127.0.0.1";

using openssl::BioPtr;
using openssl::BnPtr;
using openssl::PkeyPtr;
using openssl::X509ExtensionPtr;
using openssl::X509Ptr;

[[noreturn]] void fail(const std::string& what) {
  ERR_clear_error();
  throw std::runtime_error(what);
}

// `what` names the file for the message: a configuration key or the generated file.
void check_readable(const std::string& path, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno(what + ": cannot read", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw std::runtime_error(what + ": " + path + " is not a regular file");
  }
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    fail(std::string("certificate extension ") + OBJ_nid2sn(nid) + " failed");
  }
}

struct Material {
  std::string cert_pem;
  std::string key_pem;
};

Material generate_self_signed() {
  // ECDSA P-256: generated in a millisecond where RSA-2048 takes hundreds, which keeps
  // first start well under half a second; every TLS 1.2+ client supports it.
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) fail("TLS key generation failed");

  // A random positive 127-bit serial: RFC 5280 allows up to 20 octets, and randomness keeps
  // two generated certificates from ever sharing issuer and serial.
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    fail("certificate serial failed");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidDays * 24 * 60 * 60) == nullptr ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("Portico"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    fail("certificate fields failed");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // A leaf, not a CA: clients pin this exact certificate as their trust anchor.
  add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  // Clients match the host against subjectAltName only; CN alone is ignored by them.
  add_extension(cert.get(), &ctx, NID_subject_alt_name, kSubjectAltName);

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) fail("certificate signing failed");

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    fail("writing TLS material failed");
  }
  return Material{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

constexpr std::string_view kKeyContext = "tls-key";
constexpr std::string_view kKeyName = "the generated TLS key";

}  // namespace

TlsFiles ensure_tls_material(const std::string& data_dir, const std::string& cert_file,
                             const std::string& key_file, const KeyEncryption& encryption) {
  if (!cert_file.empty() || !key_file.empty()) {
    // Half a configuration is a mistake, not a request for generated material: serving a
    // self-signed certificate instead of the operator's would only surface at clients.
    if (cert_file.empty() || key_file.empty()) {
      throw std::runtime_error(
          "tls.cert_file and tls.key_file must be set together (or both left empty for "
          "generated self-signed material); got cert_file=\"" +
          cert_file + "\", key_file=\"" + key_file + "\"");
    }
    check_readable(cert_file, "tls.cert_file");
    check_readable(key_file, "tls.key_file");
    return TlsFiles{cert_file, key_file, {}};
  }

  fs::path dir = fs::path(data_dir) / "tls";
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    fs::permissions(dir, fs::perms::owner_all, ec);
  } else if (ec) {
    throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  }
  fs::path cert_path = dir / "server.crt";
  fs::path key_path = dir / "server.key";
  TlsFiles files{cert_path.string(), key_path.string(), {}};

  // Processes sharing a data directory (several profiles on one machine) may start together;
  // the lock makes sure they end up with one key and the certificate that matches it.
  std::string lock_name = (dir / ".lock").string();
  UniqueFd lock(::open(lock_name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) throw_errno("cannot open", lock_name);
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw_errno("cannot lock", lock_name);
  }

  if (fs::exists(cert_path) && fs::exists(key_path)) {
    check_readable(files.cert_file, "generated TLS certificate");
    check_readable(files.key_file, "generated TLS key");
    std::string stored = read_file(files.key_file);
    files.key_pem = encryption.open(stored, kKeyContext, kKeyName);
    // A key written before encryption was configured is sealed now, in place.
    if (encryption.enabled() && !KeyEncryption::is_sealed(stored))
      write_private_file(files.key_file, encryption.seal(files.key_pem, kKeyContext));
    return files;
  }
  Material material = generate_self_signed();
  // Key first: a certificate under the final name always has its key beside it.
  write_private_file(files.key_file, encryption.seal(material.key_pem, kKeyContext));
  write_private_file(files.cert_file, material.cert_pem);
  files.key_pem = std::move(material.key_pem);
  return files;  // the lock is released when its fd closes
}

}  // namespace portico
