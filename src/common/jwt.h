#pragma once
// JWS compact tokens signed and verified with OpenSSL EVP. Keys are parsed once into an
// EVP_PKEY and kept; general JWT libraries re-parse the key on every call.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace portico::jwt {

enum class Algorithm { RS256, ES256 };

std::string_view algorithm_name(Algorithm alg);              // "RS256" / "ES256"
std::optional<Algorithm> parse_algorithm(std::string_view);  // exact names only

// A private key that signs. Copies share the parsed key.
class SigningKey {
 public:
  // A fresh RSA-2048 (RS256) or P-256 (ES256) key.
  static SigningKey generate(Algorithm alg, std::string kid);
  // Throws std::runtime_error when the PEM does not hold a key of that algorithm.
  static SigningKey from_private_pem(std::string_view pem, Algorithm alg, std::string kid);

  const std::string& kid() const { return kid_; }
  Algorithm algorithm() const { return alg_; }
  std::string private_pem() const;
  // The public half as a JWK object (kty, kid, use "sig", alg, n/e or crv/x/y), as JSON text.
  std::string public_jwk_json() const;
  // Signs `signing_input` (header.payload); ES256 signatures are JOSE's 64-byte R||S.
  std::string sign(std::string_view signing_input) const;
  // header {"alg", "typ": "JWT", "kid"} + payload → compact JWS.
  std::string encode(std::string_view payload_json) const;

 private:
  struct Key;
  SigningKey(std::shared_ptr<Key> key, Algorithm alg, std::string kid);
  std::shared_ptr<Key> key_;
  Algorithm alg_;
  std::string kid_;
};

// A public key that verifies, bound to exactly one algorithm (RFC 8725 §3.1).
class VerificationKey {
 public:
  // From a JWK object (JSON text) with kty RSA or EC P-256. Throws std::runtime_error on a
  // malformed or unsupported JWK. The algorithm comes from the JWK's "alg" or its key type.
  static VerificationKey from_jwk(std::string_view jwk_json);
  static VerificationKey from_signing_key(const SigningKey& key);

  const std::string& kid() const { return kid_; }
  Algorithm algorithm() const { return alg_; }
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  struct Key;
  VerificationKey(std::shared_ptr<Key> key, Algorithm alg, std::string kid);
  std::shared_ptr<Key> key_;
  Algorithm alg_;
  std::string kid_;
};

// A compact JWS split and decoded, not yet verified.
struct DecodedToken {
  std::string header_json;
  std::string payload_json;
  std::string signing_input;  // the first two segments as received
  std::string signature;      // raw bytes
  std::string alg;            // header "alg"
  std::string kid;            // header "kid", empty if absent
};

// nullopt when the text is not three base64url segments whose first two are JSON objects.
std::optional<DecodedToken> decode(std::string_view token);

// Verifies the signature with `key`, refusing a header alg other than the key's own
// (so "none" and HS256-with-an-RSA-key are refused).
bool verify_signature(const DecodedToken& token, const VerificationKey& key);

}  // namespace portico::jwt
