#include "common/key_encryption.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

#include "common/crypto.h"

namespace portico {
namespace {

constexpr std::string_view kPrefix = "portico-sealed:v1:";
constexpr std::size_t kNonceBytes = 12;  // GCM's native nonce size: no extra GHASH step
constexpr std::size_t kTagBytes = 16;
// HKDF's info names the use, so that the same operator secret used elsewhere (it should not
// be, but people do) never yields this key.
constexpr std::string_view kInfo = "portico private keys at rest v1";
constexpr std::string_view kSalt = "portico-key-encryption";

struct KdfFree {
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

[[noreturn]] void fail(const char* what) {
  ERR_clear_error();
  throw std::runtime_error(std::string("key encryption: ") + what);
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int length(std::string_view s) {
  return static_cast<int>(s.size());
}

}  // namespace

KeyEncryption::KeyEncryption(std::string_view key_encryption_key) {
  if (key_encryption_key.empty()) return;
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) fail("HKDF is not available");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) fail("HKDF context failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<char*>(key_encryption_key.data()),
                                        key_encryption_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kSalt.data()),
                                        kSalt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kInfo.data()),
                                        kInfo.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), key_.data(), key_.size(), params) != 1) fail("HKDF failed");
  enabled_ = true;
}

KeyEncryption::~KeyEncryption() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

bool KeyEncryption::is_sealed(std::string_view stored) {
  return stored.starts_with(kPrefix);
}

std::string KeyEncryption::seal(std::string_view plaintext, std::string_view context) const {
  if (!enabled_) return std::string(plaintext);
  // A random 96-bit nonce per value: keys are sealed a handful of times in a node's life,
  // far below the 2^32 messages a random GCM nonce allows under one key.
  std::string nonce = crypto::random_bytes(kNonceBytes);
  std::string out = nonce;
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  auto* cipher_text = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  int final_n = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(context), length(context)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher_text, &n, bytes(plaintext), length(plaintext)) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher_text + n, &final_n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          cipher_text + plaintext.size()) != 1) {
    fail("sealing failed");
  }
  return std::string(kPrefix) + crypto::base64_encode(out);
}

std::string KeyEncryption::open(std::string_view stored, std::string_view context,
                                std::string_view what) const {
  if (!is_sealed(stored)) return std::string(stored);
  if (!enabled_) {
    throw KeyEncryptionError(std::string(what) +
                             " is encrypted, and security.key_encryption_key (or "
                             "PORTICO_SECURITY_KEY_ENCRYPTION_KEY) is not set");
  }
  auto raw = crypto::base64_decode(stored.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonceBytes + kTagBytes) {
    throw KeyEncryptionError(std::string(what) + " is sealed but damaged");
  }
  std::string_view data(*raw);
  std::string_view nonce = data.substr(0, kNonceBytes);
  std::string_view cipher_text = data.substr(kNonceBytes, data.size() - kNonceBytes - kTagBytes);
  std::string tag(data.substr(data.size() - kTagBytes));

  std::string plain(cipher_text.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  int final_n = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(context), length(context)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &n, bytes(cipher_text), length(cipher_text)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) != 1) {
    fail("opening failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out + n, &final_n) != 1) {
    ERR_clear_error();
    OPENSSL_cleanse(plain.data(), plain.size());
    throw KeyEncryptionError(std::string(what) +
                             " does not decrypt with security.key_encryption_key: the key is "
                             "not the one it was encrypted with");
  }
  return plain;
}

}  // namespace portico
