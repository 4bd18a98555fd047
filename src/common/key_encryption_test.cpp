#include "common/key_encryption.h"

#include <gtest/gtest.h>

namespace portico {
namespace {

constexpr std::string_view kPem =
    "-----BEGIN PRIVATE KEY-----\nMIIB...\n-----END PRIVATE KEY-----\n";

TEST(KeyEncryption, SealedValueIsNotThePlaintextAndOpensWithTheSameKey) {
  KeyEncryption kek("an operator secret");
  std::string sealed = kek.seal(kPem, "signing-key:k1");
  EXPECT_TRUE(KeyEncryption::is_sealed(sealed));
  EXPECT_EQ(sealed.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(kek.open(sealed, "signing-key:k1", "key k1"), kPem);
}

TEST(KeyEncryption, TwoSealsOfTheSameValueDiffer) {
  KeyEncryption kek("an operator secret");
  EXPECT_NE(kek.seal(kPem, "tls-key"), kek.seal(kPem, "tls-key"));
}

TEST(KeyEncryption, AnotherKeyDoesNotOpenAndSaysSo) {
  std::string sealed = KeyEncryption("right").seal(kPem, "tls-key");
  try {
    KeyEncryption("wrong").open(sealed, "tls-key", "the TLS key");
    FAIL() << "opened with the wrong key";
  } catch (const KeyEncryptionError& e) {
    EXPECT_NE(std::string(e.what()).find("the TLS key"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("security.key_encryption_key"), std::string::npos);
  }
}

TEST(KeyEncryption, AnotherContextDoesNotOpen) {
  KeyEncryption kek("secret");
  std::string sealed = kek.seal(kPem, "signing-key:k1");
  EXPECT_THROW(kek.open(sealed, "signing-key:k2", "key k2"), KeyEncryptionError);
}

TEST(KeyEncryption, TamperedValueDoesNotOpen) {
  KeyEncryption kek("secret");
  std::string sealed = kek.seal(kPem, "tls-key");
  sealed[sealed.size() - 5] = sealed[sealed.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_THROW(kek.open(sealed, "tls-key", "the TLS key"), KeyEncryptionError);
}

TEST(KeyEncryption, PlaintextWrittenBeforeOpensAsItIs) {
  EXPECT_EQ(KeyEncryption("secret").open(kPem, "tls-key", "the TLS key"), kPem);
  EXPECT_EQ(KeyEncryption().open(kPem, "tls-key", "the TLS key"), kPem);
}

TEST(KeyEncryption, WithoutAKeySealLeavesTheTextAndSealedValuesAreRefused) {
  KeyEncryption none;
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(KeyEncryption("").enabled());
  EXPECT_EQ(none.seal(kPem, "tls-key"), kPem);
  std::string sealed = KeyEncryption("secret").seal(kPem, "tls-key");
  EXPECT_THROW(none.open(sealed, "tls-key", "the TLS key"), KeyEncryptionError);
}

}  // namespace
}  // namespace portico
