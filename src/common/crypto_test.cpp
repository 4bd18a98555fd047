#include "common/crypto.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace portico::crypto {
namespace {

// RFC 4648 §10 test vectors; the base64url forms drop the padding.
struct Vector {
  std::string_view plain;
  std::string_view base64;
  std::string_view base64url;
};
constexpr Vector kRfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  for (const auto& v : kRfc4648) EXPECT_EQ(base64url_encode(v.plain), v.base64url) << v.plain;
}

TEST(Base64Url, DecodesRfc4648VectorsWithAndWithoutPadding) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(base64url_decode(v.base64url), std::string(v.plain)) << v.base64url;
    EXPECT_EQ(base64url_decode(v.base64), std::string(v.plain)) << v.base64;
  }
}

TEST(Base64Url, UsesTheUrlSafeAlphabet) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), bytes);
}

TEST(Base64Url, RejectsCharactersOutsideItsAlphabet) {
  EXPECT_EQ(base64url_decode("+/+/"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9v\n"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zg=a"), std::nullopt);
}

TEST(Base64Url, RejectsImpossibleLengthsAndBadPadding) {
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);      // 6 bits make no byte
  EXPECT_EQ(base64url_decode("Zg="), std::nullopt);    // padding that does not fill a quantum
  EXPECT_EQ(base64url_decode("Zg==="), std::nullopt);  // too much padding
}

TEST(Base64Url, RejectsNonZeroUnusedBits) {
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);  // "Zg" with a stray low bit
}

TEST(Base64, EncodesAndDecodesRfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(base64_encode(v.plain), v.base64) << v.plain;
    EXPECT_EQ(base64_decode(v.base64), std::string(v.plain)) << v.base64;
  }
}

TEST(Base64, RejectsTheUrlAlphabet) {
  EXPECT_EQ(base64_decode("-_-_"), std::nullopt);
}

TEST(Sha256, HashesAbcToTheFips180Digest) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abc").size(), 32u);
}

TEST(Sha256, HashesTheEmptyString) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

TEST(RandomBytes, ReturnsTheRequestedCountAndDiffersBetweenCalls) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(48).size(), 48u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(RandomToken, IsBase64UrlOfTheRequestedEntropy) {
  std::string token = random_token(32);
  EXPECT_EQ(token.size(), 43u);
  auto raw = base64url_decode(token);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 32u);
}

TEST(UuidV4, HasTheVersion4TextForm) {
  static const std::regex kForm(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = uuid_v4();
    EXPECT_TRUE(std::regex_match(id, kForm)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(HashSecret, ProducesAnArgon2idHashThatVerifies) {
  std::string hash = hash_secret("correct horse battery staple");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(verify_secret(hash, "correct horse battery staple"));
}

TEST(HashSecret, WrongSecretFailsVerification) {
  std::string hash = hash_secret("correct horse battery staple");
  EXPECT_FALSE(verify_secret(hash, "correct horse battery stapler"));
  EXPECT_FALSE(verify_secret(hash, ""));
}

TEST(HashSecret, TwoHashesOfOneSecretDiffer) {
  std::string a = hash_secret("s3cret");
  std::string b = hash_secret("s3cret");
  EXPECT_NE(a, b);  // fresh salt each time
  EXPECT_TRUE(verify_secret(a, "s3cret"));
  EXPECT_TRUE(verify_secret(b, "s3cret"));
}

TEST(HashSecret, MalformedHashFailsVerification) {
  EXPECT_FALSE(verify_secret("", "s3cret"));
  EXPECT_FALSE(verify_secret("$argon2id$garbage", "s3cret"));
  EXPECT_FALSE(verify_secret("s3cret", "s3cret"));
}

// RFC 4231 test case 2.
TEST(HmacSha256, MatchesRfc4231) {
  std::string mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  std::string hex;
  for (char c : mac) {
    constexpr std::string_view kHex = "0123456789abcdef";
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 0x0F];
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace portico::crypto
