#include "common/jwt.h"

#include "common/openssl_handles.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <stdexcept>

#include "common/crypto.h"

namespace portico::jwt {
namespace {

// RFC 7518 §3.3: RS256 keys must be at least 2048 bits. The upper bound keeps the cost
// of one verification bounded for keys taken from outside (JWKS) and sizes the buffers.
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr std::size_t kMaxSignatureBytes = kMaxRsaBits / 8;
constexpr std::size_t kEcCoordinateBytes = 32;  // P-256
constexpr std::size_t kEs256SignatureBytes = 2 * kEcCoordinateBytes;

using openssl::BioPtr;
using openssl::BnPtr;
using openssl::EcdsaSigPtr;
using openssl::MdCtxPtr;
using openssl::ParamBldPtr;
using openssl::ParamPtr;
using openssl::PkeyCtxPtr;
using openssl::PkeyPtr;

[[noreturn]] void fail(const std::string& what) {
  // Leave nothing on this thread's OpenSSL error queue: a later TLS read on the same thread
  // would take a stale entry for its own failure.
  ERR_clear_error();
  throw std::runtime_error(what);
}

const EVP_MD* sha256_md() {
  // Fetched once rather than looked up by name on every signature.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) fail("OpenSSL has no SHA256");
  return md;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Base64url without padding, appended in place so encode() builds the token in one buffer.
void append_base64url(std::string& out, const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    std::uint32_t n = std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8 | data[i + 2];
    char quad[4] = {kAlphabet[n >> 18 & 63], kAlphabet[n >> 12 & 63], kAlphabet[n >> 6 & 63],
                    kAlphabet[n & 63]};
    out.append(quad, 4);
  }
  if (size - i == 1) {
    std::uint32_t n = std::uint32_t{data[i]} << 16;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
  } else if (size - i == 2) {
    std::uint32_t n = std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
  }
}

std::size_t base64url_size(std::size_t n) {
  return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve(base64url_size(size));
  append_base64url(out, data, size);
  return out;
}

bool is_p256(EVP_PKEY* pkey) {
  if (!EVP_PKEY_is_a(pkey, "EC")) return false;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    ERR_clear_error();
    return false;
  }
  std::string_view name(group, len);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

// Throws unless `pkey` is a key RS256 or ES256 may use.
void check_key_fits(EVP_PKEY* pkey, Algorithm alg) {
  if (alg == Algorithm::RS256) {
    if (!EVP_PKEY_is_a(pkey, "RSA")) fail("RS256 needs an RSA key");
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      fail("RS256 needs an RSA key of 2048 to 8192 bits, not " + std::to_string(bits));
    }
  } else if (!is_p256(pkey)) {
    fail("ES256 needs an EC key on the P-256 curve");
  }
}

BnPtr get_bn(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) fail(std::string("key has no ") + name);
  return BnPtr(bn);
}

std::string bn_base64url(const BIGNUM* bn, std::size_t fixed_size = 0) {
  std::array<unsigned char, kMaxSignatureBytes> buf{};
  int len = 0;
  if (fixed_size != 0) {
    len = BN_bn2binpad(bn, buf.data(), static_cast<int>(fixed_size));
  } else if (static_cast<std::size_t>(BN_num_bytes(bn)) <= buf.size()) {
    len = BN_bn2bin(bn, buf.data());
  } else {
    len = -1;
  }
  if (len < 0) fail("key parameter too large");
  return base64url(buf.data(), static_cast<std::size_t>(len));
}

std::string public_jwk(EVP_PKEY* pkey, Algorithm alg, const std::string& kid) {
  boost::json::object jwk;
  if (alg == Algorithm::RS256) {
    jwk["kty"] = "RSA";
    jwk["kid"] = kid;
    jwk["use"] = "sig";
    jwk["alg"] = "RS256";
    // RFC 7518 §6.3.1: n and e are minimal big-endian, without leading zero octets.
    jwk["n"] = bn_base64url(get_bn(pkey, OSSL_PKEY_PARAM_RSA_N).get());
    jwk["e"] = bn_base64url(get_bn(pkey, OSSL_PKEY_PARAM_RSA_E).get());
  } else {
    jwk["kty"] = "EC";
    jwk["kid"] = kid;
    jwk["use"] = "sig";
    jwk["alg"] = "ES256";
    jwk["crv"] = "P-256";
    // RFC 7518 §6.2.1.2: coordinates are the full 32 octets, leading zeros kept.
    jwk["x"] = bn_base64url(get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X).get(), kEcCoordinateBytes);
    jwk["y"] = bn_base64url(get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y).get(), kEcCoordinateBytes);
  }
  return boost::json::serialize(jwk);
}

// Signs into `out` (room for kMaxSignatureBytes) and returns the length; ES256 comes back in
// JOSE's fixed R||S form. A context per call: EVP_MD_CTX is not safe to share between
// threads, while the EVP_PKEY itself is read-only here and shared.
std::size_t sign_into(EVP_PKEY* pkey, Algorithm alg, std::string_view input, unsigned char* out) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, sha256_md(), nullptr, pkey) != 1) {
    fail("signature setup failed");
  }
  if (alg == Algorithm::RS256) {
    std::size_t len = kMaxSignatureBytes;
    if (EVP_DigestSign(ctx.get(), out, &len, bytes(input), input.size()) != 1) {
      fail("RS256 signing failed");
    }
    return len;
  }
  // ECDSA comes out DER-encoded (at most 72 bytes for P-256).
  std::array<unsigned char, 80> der{};
  std::size_t der_len = der.size();
  if (EVP_DigestSign(ctx.get(), der.data(), &der_len, bytes(input), input.size()) != 1) {
    fail("ES256 signing failed");
  }
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) fail("ES256 signature not DER");
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kEcCoordinateBytes) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kEcCoordinateBytes, kEcCoordinateBytes) < 0) {
    fail("ES256 signature out of range");
  }
  return kEs256SignatureBytes;
}

// Any failure, malformed signature included, is a plain "no".
bool verify_with(EVP_PKEY* pkey, Algorithm alg, std::string_view input,
                 std::string_view signature) {
  std::array<unsigned char, 80> der{};
  const unsigned char* sig = bytes(signature);
  std::size_t sig_len = signature.size();
  if (alg == Algorithm::ES256) {
    // JOSE R||S back to the DER OpenSSL verifies.
    if (signature.size() != kEs256SignatureBytes) return false;
    EcdsaSigPtr ecdsa(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(sig, kEcCoordinateBytes, nullptr);
    BIGNUM* s = BN_bin2bn(sig + kEcCoordinateBytes, kEcCoordinateBytes, nullptr);
    if (!ecdsa || !r || !s || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ERR_clear_error();
      return false;
    }
    unsigned char* p = der.data();
    int len = i2d_ECDSA_SIG(ecdsa.get(), &p);
    if (len <= 0) {
      ERR_clear_error();
      return false;
    }
    sig = der.data();
    sig_len = static_cast<std::size_t>(len);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, sha256_md(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx.get(), sig, sig_len, bytes(input), input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// Never prompt on the terminal for a pass phrase: an encrypted PEM is simply refused.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::optional<std::string> string_member(const boost::json::object& obj, std::string_view name) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) fail("JWK member \"" + std::string(name) + "\" is not a string");
  return std::string(v->get_string());
}

std::string required_base64url(const boost::json::object& obj, std::string_view name) {
  auto text = string_member(obj, name);
  if (!text) fail("JWK lacks \"" + std::string(name) + "\"");
  auto raw = crypto::base64url_decode(*text);
  if (!raw || raw->empty()) fail("JWK member \"" + std::string(name) + "\" is not base64url");
  return std::move(*raw);
}

PkeyPtr pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    fail(std::string("JWK does not make a valid ") + type + " public key");
  }
  PkeyPtr key(pkey);
  // Rejects, among others, EC points that are not on the curve.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    fail(std::string("JWK does not make a valid ") + type + " public key");
  }
  return key;
}

PkeyPtr rsa_from_jwk(const boost::json::object& jwk) {
  std::string n = required_base64url(jwk, "n");
  std::string e = required_base64url(jwk, "e");
  BnPtr bn_n(BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e) fail("JWK RSA parameters unreadable");
  int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    fail("JWK RSA modulus must be 2048 to 8192 bits, not " + std::to_string(bits));
  }
  if (!BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2 || BN_num_bits(bn_e.get()) > 64) {
    fail("JWK RSA exponent is not a usable public exponent");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    fail("JWK RSA parameters unreadable");
  }
  return pkey_from_params("RSA", bld.get());
}

PkeyPtr ec_from_jwk(const boost::json::object& jwk) {
  auto crv = string_member(jwk, "crv");
  if (!crv) fail("JWK lacks \"crv\"");
  if (*crv != "P-256") fail("JWK curve \"" + *crv + "\" is not supported (only P-256)");
  std::string x = required_base64url(jwk, "x");
  std::string y = required_base64url(jwk, "y");
  if (x.size() != kEcCoordinateBytes || y.size() != kEcCoordinateBytes) {
    fail("JWK P-256 coordinates must be 32 bytes each");
  }
  // The uncompressed SEC 1 point: 0x04 || x || y.
  std::array<unsigned char, 1 + 2 * kEcCoordinateBytes> point{};
  point[0] = 0x04;
  std::copy(x.begin(), x.end(), point.begin() + 1);
  std::copy(y.begin(), y.end(), point.begin() + 1 + kEcCoordinateBytes);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    fail("JWK EC parameters unreadable");
  }
  return pkey_from_params("EC", bld.get());
}

std::optional<boost::json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

// The parsed key and what is derived from it once: the JWK and the token header segment.
struct SigningKey::Key {
  PkeyPtr pkey;
  std::string public_jwk_json;
  std::string header_segment;  // base64url of {"alg":...,"typ":"JWT","kid":...}
};

struct VerificationKey::Key {
  PkeyPtr pkey;
};

std::string_view algorithm_name(Algorithm alg) {
  return alg == Algorithm::RS256 ? "RS256" : "ES256";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  if (name == "RS256") return Algorithm::RS256;
  if (name == "ES256") return Algorithm::ES256;
  return std::nullopt;
}

SigningKey::SigningKey(std::shared_ptr<Key> key, Algorithm alg, std::string kid)
    : key_(std::move(key)), alg_(alg), kid_(std::move(kid)) {
  key_->public_jwk_json = public_jwk(key_->pkey.get(), alg_, kid_);
  // Built by hand to fix the member order; the kid is escaped by the JSON serializer.
  std::string header = R"({"alg":")";
  header += algorithm_name(alg_);
  header += R"(","typ":"JWT","kid":)";
  header += boost::json::serialize(boost::json::value(kid_));
  header += '}';
  key_->header_segment = base64url(bytes(header), header.size());
}

SigningKey SigningKey::generate(Algorithm alg, std::string kid) {
  EVP_PKEY* pkey = alg == Algorithm::RS256
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) fail("key generation failed");
  auto key = std::make_shared<Key>();
  key->pkey.reset(pkey);
  return SigningKey(std::move(key), alg, std::move(kid));
}

SigningKey SigningKey::from_private_pem(std::string_view pem, Algorithm alg, std::string kid) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) fail("out of memory");
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) fail("PEM does not hold an unencrypted private key");
  check_key_fits(pkey.get(), alg);
  auto key = std::make_shared<Key>();
  key->pkey = std::move(pkey);
  return SigningKey(std::move(key), alg, std::move(kid));
}

std::string SigningKey::private_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    fail("writing the private key failed");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string SigningKey::public_jwk_json() const {
  return key_->public_jwk_json;
}

std::string SigningKey::sign(std::string_view signing_input) const {
  std::array<unsigned char, kMaxSignatureBytes> sig;
  std::size_t len = sign_into(key_->pkey.get(), alg_, signing_input, sig.data());
  return std::string(reinterpret_cast<const char*>(sig.data()), len);
}

std::string SigningKey::encode(std::string_view payload_json) const {
  const std::string& header = key_->header_segment;
  std::string token;
  token.reserve(header.size() + 1 + base64url_size(payload_json.size()) + 1 +
                base64url_size(kMaxSignatureBytes));
  token += header;
  token += '.';
  append_base64url(token, bytes(payload_json), payload_json.size());
  std::array<unsigned char, kMaxSignatureBytes> sig;
  std::size_t len = sign_into(key_->pkey.get(), alg_, token, sig.data());
  token += '.';
  append_base64url(token, sig.data(), len);
  return token;
}

VerificationKey::VerificationKey(std::shared_ptr<Key> key, Algorithm alg, std::string kid)
    : key_(std::move(key)), alg_(alg), kid_(std::move(kid)) {}

VerificationKey VerificationKey::from_jwk(std::string_view jwk_json) {
  auto jwk = parse_object(jwk_json);
  if (!jwk) fail("JWK is not a JSON object");
  auto kty = string_member(*jwk, "kty");
  if (!kty) fail("JWK lacks \"kty\"");
  auto use = string_member(*jwk, "use");
  if (use && *use != "sig") fail("JWK \"use\" is \"" + *use + "\", not \"sig\"");
  auto kid = string_member(*jwk, "kid");
  auto alg_name = string_member(*jwk, "alg");

  // Only the public parameters are read; private ones ("d", "p", ...), if any, are ignored.
  Algorithm alg;
  auto key = std::make_shared<Key>();
  if (*kty == "RSA") {
    alg = Algorithm::RS256;
    key->pkey = rsa_from_jwk(*jwk);
  } else if (*kty == "EC") {
    alg = Algorithm::ES256;
    key->pkey = ec_from_jwk(*jwk);
  } else {
    fail("JWK key type \"" + *kty + "\" is not supported");
  }
  if (alg_name && parse_algorithm(*alg_name) != alg) {
    fail("JWK \"alg\" \"" + *alg_name + "\" does not fit key type \"" + *kty + "\"");
  }
  return VerificationKey(std::move(key), alg, kid.value_or(""));
}

VerificationKey VerificationKey::from_signing_key(const SigningKey& key) {
  // Through the public JWK: the signing key's internals stay private to it, and this runs
  // when keys are loaded, not per token.
  return from_jwk(key.public_jwk_json());
}

bool VerificationKey::verify(std::string_view signing_input, std::string_view signature) const {
  return verify_with(key_->pkey.get(), alg_, signing_input, signature);
}

std::optional<DecodedToken> decode(std::string_view token) {
  std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  // RFC 7515 segments carry no padding; refusing it keeps one spelling per token.
  if (token.find('=') != std::string_view::npos) return std::nullopt;

  auto header_json = crypto::base64url_decode(token.substr(0, first));
  auto payload_json = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = crypto::base64url_decode(token.substr(second + 1));
  if (!header_json || !payload_json || !signature) return std::nullopt;

  auto header = parse_object(*header_json);
  if (!header || !parse_object(*payload_json)) return std::nullopt;
  const boost::json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return std::nullopt;
  const boost::json::value* kid = header->if_contains("kid");
  if (kid != nullptr && !kid->is_string()) return std::nullopt;
  // RFC 7515 §4.1.11: a "crit" header names extensions the recipient must understand, and
  // Portico understands none.
  if (header->contains("crit")) return std::nullopt;

  DecodedToken out;
  out.alg = std::string(alg->get_string());
  if (kid != nullptr) out.kid = std::string(kid->get_string());
  out.header_json = std::move(*header_json);
  out.payload_json = std::move(*payload_json);
  out.signing_input = std::string(token.substr(0, second));
  out.signature = std::move(*signature);
  return out;
}

bool verify_signature(const DecodedToken& token, const VerificationKey& key) {
  // RFC 8725 §3.1: the key decides the algorithm; the header only has to agree with it.
  if (parse_algorithm(token.alg) != key.algorithm()) return false;
  return key.verify(token.signing_input, token.signature);
}

}  // namespace portico::jwt
