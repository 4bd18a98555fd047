#include "store/signing_keys_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

constexpr std::int64_t kT0 = 1700000000;
constexpr std::int64_t kRetain = 3600;

SigningKeyRecord key(const std::string& kid, std::int64_t created_at) {
  return SigningKeyRecord{
      kid,        "RS256", "-----BEGIN PRIVATE KEY-----\n" + kid + "\n-----END PRIVATE KEY-----\n",
      created_at, 0,       0};
}

std::vector<std::string> kids(const std::vector<SigningKeyRecord>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.kid);
  return out;
}

class SigningKeysRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) keys_ = std::make_unique<SigningKeysRepository>(*db_);
  }
  std::unique_ptr<SigningKeysRepository> keys_;
};
PORTICO_STORE_BACKENDS(SigningKeysRepositoryTest);

TEST_P(SigningKeysRepositoryTest, FirstRotationInstallsTheActiveKey) {
  EXPECT_TRUE(keys_->list_current(kT0).empty());
  keys_->rotate(key("k1", kT0), kT0, kRetain);
  auto current = keys_->list_current(kT0);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].kid, "k1");
  EXPECT_EQ(current[0].algorithm, "RS256");
  EXPECT_EQ(current[0].private_pem, key("k1", kT0).private_pem);
  EXPECT_EQ(current[0].created_at, kT0);
  EXPECT_EQ(current[0].retired_at, 0);
  EXPECT_EQ(current[0].keep_until, 0);
}

TEST_P(SigningKeysRepositoryTest, RotationKeepsTheOldKeyUntilKeepUntilThenPurgeRemovesIt) {
  keys_->rotate(key("k1", kT0), kT0, kRetain);
  const std::int64_t t1 = kT0 + 100;
  keys_->rotate(key("k2", t1), t1, kRetain);

  auto current = keys_->list_current(t1);
  ASSERT_EQ(kids(current), (std::vector<std::string>{"k2", "k1"}));
  EXPECT_EQ(current[0].retired_at, 0);
  EXPECT_EQ(current[0].keep_until, 0);
  EXPECT_EQ(current[1].retired_at, t1);
  EXPECT_EQ(current[1].keep_until, t1 + kRetain);

  EXPECT_EQ(kids(keys_->list_current(t1 + kRetain - 1)), (std::vector<std::string>{"k2", "k1"}));
  EXPECT_EQ(kids(keys_->list_current(t1 + kRetain)), std::vector<std::string>{"k2"});

  EXPECT_EQ(keys_->purge_expired(t1 + kRetain - 1), 0);
  EXPECT_EQ(keys_->purge_expired(t1 + kRetain), 1);
  EXPECT_EQ(keys_->purge_expired(t1 + kRetain), 0);
  EXPECT_EQ(kids(keys_->list_current(t1)), std::vector<std::string>{"k2"});
}

TEST_P(SigningKeysRepositoryTest, RotationsWithinOneSecondListTheActiveKeyFirst) {
  keys_->rotate(key("k1", kT0), kT0, kRetain);
  keys_->rotate(key("k2", kT0), kT0, kRetain);
  keys_->rotate(key("k3", kT0), kT0, kRetain);
  auto current = keys_->list_current(kT0);
  ASSERT_EQ(current.size(), 3u);
  EXPECT_EQ(current[0].kid, "k3");
  EXPECT_EQ(current[0].retired_at, 0);
  int active = 0;
  for (const auto& k : current) active += k.retired_at == 0;
  EXPECT_EQ(active, 1);
}

TEST_P(SigningKeysRepositoryTest, RotationToATakenKidChangesNothing) {
  keys_->rotate(key("k1", kT0), kT0, kRetain);
  EXPECT_THROW(keys_->rotate(key("k1", kT0 + 1), kT0 + 1, kRetain), ConflictError);
  auto current = keys_->list_current(kT0 + 1);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].retired_at, 0);
}

TEST_P(SigningKeysRepositoryTest, AConditionalRotationDecidesOnTheActiveKeyReadUnderTheLock) {
  auto when_none = [](const SigningKeyRecord* active) { return active == nullptr; };
  EXPECT_TRUE(keys_->rotate_if(key("k1", kT0), kT0, kRetain, when_none));
  EXPECT_FALSE(keys_->rotate_if(key("k2", kT0), kT0, kRetain, when_none));
  EXPECT_EQ(kids(keys_->list_current(kT0)), (std::vector<std::string>{"k1"}));
}

}  // namespace
}  // namespace portico::store
