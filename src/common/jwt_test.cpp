#include "common/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/wait.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/crypto.h"

namespace portico::jwt {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPayload = R"({"sub":"alice","scope":"read write"})";

// RSA generation takes a while; one key per algorithm serves every test that only reads it.
const SigningKey& rs256_key() {
  static const SigningKey key = SigningKey::generate(Algorithm::RS256, "rsa-1");
  return key;
}
const SigningKey& es256_key() {
  static const SigningKey key = SigningKey::generate(Algorithm::ES256, "ec-1");
  return key;
}

std::string b64(std::string_view s) {
  return crypto::base64url_encode(s);
}

bool verifies(std::string_view token, const VerificationKey& key) {
  auto decoded = decode(token);
  return decoded && verify_signature(*decoded, key);
}

// Replaces one segment of a compact token.
std::string with_segment(std::string_view token, int index, std::string_view segment) {
  std::vector<std::string> parts;
  std::stringstream in{std::string(token)};
  for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
  if (token.back() == '.') parts.emplace_back();
  parts.at(index) = segment;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

boost::json::object json_object(std::string_view text) {
  return boost::json::parse(text).as_object();
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("portico-jwt-" + crypto::random_token(9))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, std::string_view content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
  }

 private:
  fs::path path_;
};

struct PythonRun {
  int status = -1;
  std::string out;
};

// Debian's interpreter, where python3-jwt lives; the first python3 on PATH is another build.
PythonRun python(std::string_view script, const std::string& args) {
  if (script.find('\'') != std::string_view::npos) throw std::logic_error("quote in script");
  std::string cmd = "/usr/bin/python3 -c '" + std::string(script) + "' " + args + " 2>&1";
  PythonRun run;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) run.out.append(buf, n);
  int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

bool have_pyjwt() {
  return python("import jwt, cryptography", "").status == 0;
}

TEST(Algorithm, NamesRoundTripExactly) {
  EXPECT_EQ(algorithm_name(Algorithm::RS256), "RS256");
  EXPECT_EQ(algorithm_name(Algorithm::ES256), "ES256");
  EXPECT_EQ(parse_algorithm("RS256"), Algorithm::RS256);
  EXPECT_EQ(parse_algorithm("ES256"), Algorithm::ES256);
  EXPECT_EQ(parse_algorithm("rs256"), std::nullopt);
  EXPECT_EQ(parse_algorithm("none"), std::nullopt);
  EXPECT_EQ(parse_algorithm("HS256"), std::nullopt);
}

TEST(SigningKey, Rs256TokenVerifiesWithItsKey) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_TRUE(verifies(token, VerificationKey::from_signing_key(rs256_key())));
}

TEST(SigningKey, Es256TokenVerifiesWithItsKey) {
  std::string token = es256_key().encode(kPayload);
  EXPECT_TRUE(verifies(token, VerificationKey::from_signing_key(es256_key())));
}

TEST(SigningKey, EncodesTheHeaderAndPayloadExactly) {
  auto decoded = decode(rs256_key().encode(kPayload));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->header_json, R"({"alg":"RS256","typ":"JWT","kid":"rsa-1"})");
  EXPECT_EQ(decoded->payload_json, kPayload);
  EXPECT_EQ(decoded->alg, "RS256");
  EXPECT_EQ(decoded->kid, "rsa-1");
}

TEST(SigningKey, EscapesTheKidInTheHeader) {
  SigningKey key =
      SigningKey::from_private_pem(es256_key().private_pem(), Algorithm::ES256, R"(a"b\c)");
  auto decoded = decode(key.encode(kPayload));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->kid, R"(a"b\c)");
}

TEST(SigningKey, Es256SignatureIs64Bytes) {
  EXPECT_EQ(es256_key().sign("header.payload").size(), 64u);
  auto decoded = decode(es256_key().encode(kPayload));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->signature.size(), 64u);
}

TEST(SigningKey, Rs256SignatureIsTheModulusSize) {
  EXPECT_EQ(rs256_key().sign("header.payload").size(), 256u);
}

TEST(SigningKey, RsaJwkHasThePublicMembersOnly) {
  auto jwk = json_object(rs256_key().public_jwk_json());
  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("kid"), "rsa-1");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("alg"), "RS256");
  EXPECT_EQ(jwk.at("e"), "AQAB");
  EXPECT_EQ(crypto::base64url_decode(jwk.at("n").as_string())->size(), 256u);
  EXPECT_FALSE(jwk.contains("d"));
}

TEST(SigningKey, EcJwkHas32ByteCoordinates) {
  auto jwk = json_object(es256_key().public_jwk_json());
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(jwk.at("alg"), "ES256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(crypto::base64url_decode(jwk.at("x").as_string())->size(), 32u);
  EXPECT_EQ(crypto::base64url_decode(jwk.at("y").as_string())->size(), 32u);
  EXPECT_FALSE(jwk.contains("d"));
}

TEST(VerificationKey, ExportedRsaJwkParsesBackAndVerifies) {
  VerificationKey key = VerificationKey::from_jwk(rs256_key().public_jwk_json());
  EXPECT_EQ(key.kid(), "rsa-1");
  EXPECT_EQ(key.algorithm(), Algorithm::RS256);
  EXPECT_TRUE(verifies(rs256_key().encode(kPayload), key));
}

TEST(VerificationKey, ExportedEcJwkParsesBackAndVerifies) {
  VerificationKey key = VerificationKey::from_jwk(es256_key().public_jwk_json());
  EXPECT_EQ(key.kid(), "ec-1");
  EXPECT_EQ(key.algorithm(), Algorithm::ES256);
  EXPECT_TRUE(verifies(es256_key().encode(kPayload), key));
}

TEST(VerificationKey, AlgorithmFollowsTheKeyTypeWhenJwkHasNoAlg) {
  auto jwk = json_object(es256_key().public_jwk_json());
  jwk.erase("alg");
  jwk.erase("kid");
  VerificationKey key = VerificationKey::from_jwk(boost::json::serialize(jwk));
  EXPECT_EQ(key.algorithm(), Algorithm::ES256);
  EXPECT_EQ(key.kid(), "");
}

TEST(SigningKey, ReloadedRsaPemSignsTokensTheOldJwkVerifies) {
  SigningKey reloaded =
      SigningKey::from_private_pem(rs256_key().private_pem(), Algorithm::RS256, "rsa-1");
  VerificationKey old_key = VerificationKey::from_jwk(rs256_key().public_jwk_json());
  EXPECT_TRUE(verifies(reloaded.encode(kPayload), old_key));
  EXPECT_EQ(reloaded.public_jwk_json(), rs256_key().public_jwk_json());
}

TEST(SigningKey, ReloadedEcPemSignsTokensTheOldJwkVerifies) {
  SigningKey reloaded =
      SigningKey::from_private_pem(es256_key().private_pem(), Algorithm::ES256, "ec-1");
  VerificationKey old_key = VerificationKey::from_jwk(es256_key().public_jwk_json());
  EXPECT_TRUE(verifies(reloaded.encode(kPayload), old_key));
}

TEST(SigningKey, PemOfTheWrongKeyTypeIsRefused) {
  EXPECT_THROW(SigningKey::from_private_pem(rs256_key().private_pem(), Algorithm::ES256, "k"),
               std::runtime_error);
  EXPECT_THROW(SigningKey::from_private_pem(es256_key().private_pem(), Algorithm::RS256, "k"),
               std::runtime_error);
}

TEST(SigningKey, PemWithoutAKeyIsRefused) {
  EXPECT_THROW(SigningKey::from_private_pem("not a pem", Algorithm::RS256, "k"),
               std::runtime_error);
  EXPECT_THROW(SigningKey::from_private_pem("", Algorithm::ES256, "k"), std::runtime_error);
}

TEST(SigningKey, ConcurrentSignaturesOnOneKeyAllVerify) {
  VerificationKey rsa = VerificationKey::from_signing_key(rs256_key());
  VerificationKey ec = VerificationKey::from_signing_key(es256_key());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string payload = R"({"n":)" + std::to_string(t * 1000 + i) + "}";
        if (!verifies(rs256_key().encode(payload), rsa)) ++failures[t];
        if (!verifies(es256_key().encode(payload), ec)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(VerifySignature, TamperedPayloadFails) {
  std::string token = rs256_key().encode(kPayload);
  std::string forged = with_segment(token, 1, b64(R"({"sub":"mallory","scope":"read write"})"));
  EXPECT_FALSE(verifies(forged, VerificationKey::from_signing_key(rs256_key())));
}

TEST(VerifySignature, TamperedEs256SignatureFails) {
  auto decoded = decode(es256_key().encode(kPayload));
  ASSERT_TRUE(decoded.has_value());
  decoded->signature[10] ^= 0x01;
  EXPECT_FALSE(verify_signature(*decoded, VerificationKey::from_signing_key(es256_key())));
}

TEST(VerifySignature, TruncatedSignatureFails) {
  auto decoded = decode(rs256_key().encode(kPayload));
  ASSERT_TRUE(decoded.has_value());
  decoded->signature.pop_back();
  EXPECT_FALSE(verify_signature(*decoded, VerificationKey::from_signing_key(rs256_key())));
}

TEST(VerifySignature, TokenFromAnotherKeyFails) {
  SigningKey other = SigningKey::generate(Algorithm::ES256, "ec-1");
  EXPECT_FALSE(verifies(other.encode(kPayload), VerificationKey::from_signing_key(es256_key())));
}

TEST(VerifySignature, AlgNoneTokenFails) {
  std::string token =
      b64(R"({"alg":"none","typ":"JWT","kid":"rsa-1"})") + "." + b64(kPayload) + ".";
  auto decoded = decode(token);
  ASSERT_TRUE(decoded.has_value());  // well-formed, so refusal is verify_signature's doing
  EXPECT_EQ(decoded->alg, "none");
  EXPECT_FALSE(verify_signature(*decoded, VerificationKey::from_signing_key(rs256_key())));
}

TEST(VerifySignature, Hs256TokenKeyedWithTheRsaPublicKeyFails) {
  // The classic confusion attack: HMAC keyed with the verifier's public key material.
  std::string secret = rs256_key().public_jwk_json();
  std::string input = b64(R"({"alg":"HS256","typ":"JWT","kid":"rsa-1"})") + "." + b64(kPayload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  std::string token = input + "." + b64(std::string(reinterpret_cast<char*>(mac), mac_len));
  auto decoded = decode(token);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_FALSE(verify_signature(*decoded, VerificationKey::from_jwk(secret)));
}

TEST(VerifySignature, Es256TokenWithAnRs256KeyFails) {
  EXPECT_FALSE(
      verifies(es256_key().encode(kPayload), VerificationKey::from_signing_key(rs256_key())));
}

TEST(VerifySignature, Rs256TokenWithAnEs256KeyFails) {
  EXPECT_FALSE(
      verifies(rs256_key().encode(kPayload), VerificationKey::from_signing_key(es256_key())));
}

TEST(VerifySignature, HeaderAlgMustMatchTheKeyEvenWhenTheSignatureIsValid) {
  // A valid RS256 signature over a header that claims another algorithm.
  std::string input = b64(R"({"alg":"RS512","typ":"JWT"})") + "." + b64(kPayload);
  std::string token = input + "." + b64(rs256_key().sign(input));
  EXPECT_FALSE(verifies(token, VerificationKey::from_signing_key(rs256_key())));
}

TEST(Decode, RejectsTwoSegments) {
  EXPECT_EQ(decode(b64(R"({"alg":"RS256"})") + "." + b64(kPayload)), std::nullopt);
}

TEST(Decode, RejectsFourSegments) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(token + ".x"), std::nullopt);
}

TEST(Decode, RejectsANonJsonHeader) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(with_segment(token, 0, b64("not json"))), std::nullopt);
}

TEST(Decode, RejectsAHeaderThatIsNotAnObject) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(with_segment(token, 0, b64(R"(["RS256"])"))), std::nullopt);
}

TEST(Decode, RejectsANonJsonPayload) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(with_segment(token, 1, b64("hello"))), std::nullopt);
}

TEST(Decode, RejectsBadBase64) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(with_segment(token, 1, "eyJzdWIiOiJ*In0")), std::nullopt);
  EXPECT_EQ(decode(with_segment(token, 2, "+/+/")), std::nullopt);
}

TEST(Decode, RejectsAHeaderWithoutAlg) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(with_segment(token, 0, b64(R"({"typ":"JWT"})"))), std::nullopt);
}

TEST(Decode, RejectsCriticalHeaderExtensions) {
  std::string token = rs256_key().encode(kPayload);
  EXPECT_EQ(decode(with_segment(token, 0, b64(R"({"alg":"RS256","crit":["exp"],"exp":1})"))),
            std::nullopt);
}

TEST(Decode, KeepsTheSigningInputAsReceived) {
  std::string token = es256_key().encode(kPayload);
  auto decoded = decode(token);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->signing_input, token.substr(0, token.rfind('.')));
}

TEST(FromJwk, RejectsAnUnknownKeyType) {
  EXPECT_THROW(VerificationKey::from_jwk(R"({"kty":"oct","k":"c2VjcmV0"})"), std::runtime_error);
  EXPECT_THROW(VerificationKey::from_jwk(R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})"),
               std::runtime_error);
}

TEST(FromJwk, RejectsAnUnsupportedCurve) {
  auto jwk = json_object(es256_key().public_jwk_json());
  jwk["crv"] = "P-384";
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(FromJwk, RejectsMissingMembers) {
  for (const char* member : {"kty", "n", "e"}) {
    auto jwk = json_object(rs256_key().public_jwk_json());
    jwk.erase(member);
    EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error)
        << member;
  }
  for (const char* member : {"crv", "x", "y"}) {
    auto jwk = json_object(es256_key().public_jwk_json());
    jwk.erase(member);
    EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error)
        << member;
  }
}

TEST(FromJwk, RejectsBadBase64) {
  auto jwk = json_object(rs256_key().public_jwk_json());
  jwk["n"] = "not+base64url/";
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(FromJwk, RejectsMalformedJson) {
  EXPECT_THROW(VerificationKey::from_jwk("{"), std::runtime_error);
  EXPECT_THROW(VerificationKey::from_jwk("[]"), std::runtime_error);
  EXPECT_THROW(VerificationKey::from_jwk(R"({"kty":1})"), std::runtime_error);
}

TEST(FromJwk, RejectsAnAlgThatDoesNotFitTheKeyType) {
  auto jwk = json_object(rs256_key().public_jwk_json());
  jwk["alg"] = "ES256";
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
  jwk["alg"] = "HS256";
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(FromJwk, RejectsAnEncryptionKey) {
  auto jwk = json_object(rs256_key().public_jwk_json());
  jwk["use"] = "enc";
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(FromJwk, RejectsShortEcCoordinates) {
  auto jwk = json_object(es256_key().public_jwk_json());
  jwk["x"] = b64(std::string(31, '\x01'));
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(FromJwk, RejectsAPointOffTheCurve) {
  auto jwk = json_object(es256_key().public_jwk_json());
  std::string y = *crypto::base64url_decode(jwk.at("y").as_string());
  y[31] ^= 0x01;
  jwk["y"] = b64(y);
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(FromJwk, RejectsAnRsaModulusBelow2048Bits) {
  auto jwk = json_object(rs256_key().public_jwk_json());
  jwk["n"] = b64(crypto::base64url_decode(jwk.at("n").as_string())->substr(0, 128));
  EXPECT_THROW(VerificationKey::from_jwk(boost::json::serialize(jwk)), std::runtime_error);
}

TEST(PyJwtInterop, PyJwtVerifiesOurTokens) {
  if (!have_pyjwt()) GTEST_SKIP() << "/usr/bin/python3 lacks jwt or cryptography";
  constexpr std::string_view kScript = R"(
import json, sys, jwt
d = sys.argv[1]
jwk = json.load(open(d + "/jwk.json"))
token = open(d + "/token").read()
key = jwt.PyJWK(jwk).key
claims = jwt.decode(token, key, algorithms=[jwk["alg"]])
print(jwt.get_unverified_header(token)["kid"], json.dumps(claims, sort_keys=True))
)";
  for (const SigningKey* key : {&rs256_key(), &es256_key()}) {
    TempDir dir;
    dir.write("jwk.json", key->public_jwk_json());
    dir.write("token", key->encode(kPayload));
    PythonRun run = python(kScript, dir.path().string());
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_EQ(run.out, key->kid() + R"( {"scope": "read write", "sub": "alice"})" + "\n")
        << algorithm_name(key->algorithm());
  }
}

TEST(PyJwtInterop, WeVerifyTokensPyJwtSignsWithOurPem) {
  if (!have_pyjwt()) GTEST_SKIP() << "/usr/bin/python3 lacks jwt or cryptography";
  constexpr std::string_view kScript = R"(
import sys, jwt
d, alg = sys.argv[1], sys.argv[2]
pem = open(d + "/key.pem").read()
print(jwt.encode({"sub": "bob"}, pem, algorithm=alg, headers={"kid": "py"}), end="")
)";
  for (const SigningKey* key : {&rs256_key(), &es256_key()}) {
    std::string alg(algorithm_name(key->algorithm()));
    TempDir dir;
    dir.write("key.pem", key->private_pem());
    PythonRun run = python(kScript, dir.path().string() + " " + alg);
    ASSERT_EQ(run.status, 0) << run.out;
    auto decoded = decode(run.out);
    ASSERT_TRUE(decoded.has_value()) << run.out;
    EXPECT_EQ(decoded->alg, alg);
    EXPECT_EQ(decoded->kid, "py");
    EXPECT_EQ(json_object(decoded->payload_json).at("sub"), "bob");
    EXPECT_TRUE(verify_signature(*decoded, VerificationKey::from_jwk(key->public_jwk_json())))
        << alg;
  }
}

}  // namespace
}  // namespace portico::jwt
