#include "store/login_failures_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class LoginFailuresRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) rows_ = std::make_unique<LoginFailuresRepository>(*db_);
  }
  std::unique_ptr<LoginFailuresRepository> rows_;
};
PORTICO_STORE_BACKENDS(LoginFailuresRepositoryTest);

TEST_P(LoginFailuresRepositoryTest, AnUpdateStartsFromAFreshRecordThenFromTheStoredOne) {
  EXPECT_EQ(rows_->find("account", "user:alice"), std::nullopt);
  for (int i = 0; i < 2; ++i) {
    rows_->update("account", "user:alice", [](LoginFailureRecord& r) {
      ++r.failures;
      r.last_failure_ms = 1700000000123;
    });
  }
  auto stored = rows_->find("account", "user:alice");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->failures, 2);
  EXPECT_EQ(stored->last_failure_ms, 1700000000123);
  EXPECT_EQ(rows_->find("address", "user:alice"), std::nullopt);
  rows_->remove("account", "user:alice");
  EXPECT_EQ(rows_->find("account", "user:alice"), std::nullopt);
}

TEST_P(LoginFailuresRepositoryTest, BothReadsTheAddressAndTheAccountEachByItsKind) {
  auto set = [&](const std::string& kind, const std::string& name, int failures) {
    rows_->update(kind, name, [&](LoginFailureRecord& r) { r.failures = failures; });
  };
  auto nothing = rows_->find_both("10.0.0.1", "user:alice");
  EXPECT_FALSE(nothing.first || nothing.second);
  set("address", "10.0.0.1", 7);
  set("account", "10.0.0.1", 1);  // another kind's record of the same name is not the address's
  set("address", "user:alice", 2);
  auto [address, account] = rows_->find_both("10.0.0.1", "user:alice");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->failures, 7);
  EXPECT_FALSE(account);
  set("account", "user:alice", 3);
  std::tie(address, account) = rows_->find_both("10.0.0.1", "user:alice");
  ASSERT_TRUE(address && account);
  EXPECT_EQ(address->failures, 7);
  EXPECT_EQ(account->failures, 3);
  std::tie(address, account) = rows_->find_both("10.0.0.2", "user:alice");
  EXPECT_FALSE(address);
  ASSERT_TRUE(account);
  EXPECT_EQ(account->failures, 3);
}

TEST_P(LoginFailuresRepositoryTest, PurgeKeepsLocksAndRecentFailures) {
  auto set = [&](const std::string& name, std::int64_t until, std::int64_t last) {
    rows_->update("address", name, [&](LoginFailureRecord& r) {
      r.failures = 1;
      r.locked_until_ms = until;
      r.last_failure_ms = last;
    });
  };
  set("old", 0, 1000);
  set("locked", 9000, 1000);
  set("recent", 0, 4000);
  EXPECT_EQ(rows_->purge(5000, 3000), 1);
  EXPECT_EQ(rows_->find("address", "old"), std::nullopt);
  EXPECT_TRUE(rows_->find("address", "locked"));
  EXPECT_TRUE(rows_->find("address", "recent"));
}

}  // namespace
}  // namespace portico::store
