#include "keymanager/login_throttle.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/database.h"

namespace portico::keymanager {
namespace {

using Clock = LoginThrottle::Clock;
using std::chrono::seconds;

ThrottlePolicy policy() {
  ThrottlePolicy p;
  p.max_failures = 3;
  p.max_failures_per_address = 10;
  p.lockout = seconds(60);
  p.lockout_max = seconds(200);
  return p;
}

std::optional<Lockout> refusal(LoginThrottle& t, std::string_view account, std::string_view address,
                               Clock::time_point now) {
  try {
    t.check(account, address, now);
    return std::nullopt;
  } catch (const AccountLocked& e) {
    return e.lockout;
  }
}

TEST(LoginThrottle, LocksAnAccountAfterTheMaximumFailures) {
  LoginThrottle t(policy());
  auto now = Clock::now();
  for (int i = 0; i < 2; ++i) t.failed("u:alice", "10.0.0.1", now);
  EXPECT_FALSE(refusal(t, "u:alice", "10.0.0.1", now));
  t.failed("u:alice", "10.0.0.1", now);
  auto locked = refusal(t, "u:alice", "10.0.0.2", now);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->reason, Lockout::Reason::kAccount);
  EXPECT_EQ(locked->retry_after_seconds, 60);
  EXPECT_FALSE(refusal(t, "u:bob", "10.0.0.2", now));
}

TEST(LoginThrottle, TheBackOffEndsAndDoublesUpToTheMaximum) {
  LoginThrottle t(policy());
  auto now = Clock::now();
  std::vector<std::int64_t> backoffs;
  for (int lock = 0; lock < 4; ++lock) {
    for (int i = 0; i < 3; ++i) t.failed("u:alice", "a" + std::to_string(lock), now);
    auto locked = refusal(t, "u:alice", "x", now);
    ASSERT_TRUE(locked);
    backoffs.push_back(locked->retry_after_seconds);
    now += seconds(locked->retry_after_seconds);
    EXPECT_FALSE(refusal(t, "u:alice", "x", now));
  }
  EXPECT_EQ(backoffs, (std::vector<std::int64_t>{60, 120, 200, 200}));
}

TEST(LoginThrottle, ASuccessResetsTheAccount) {
  LoginThrottle t(policy());
  auto now = Clock::now();
  EXPECT_FALSE(t.check("u:alice", "10.0.0.1", now));  // nothing on record: nothing to clear
  for (int i = 0; i < 2; ++i) t.failed("u:alice", "10.0.0.1", now);
  bool had_failures = t.check("u:alice", "10.0.0.1", now);
  EXPECT_TRUE(had_failures);
  t.succeeded("u:alice", had_failures);
  EXPECT_FALSE(t.check("u:alice", "10.0.0.1", now));
  for (int i = 0; i < 2; ++i) t.failed("u:alice", "10.0.0.1", now);
  EXPECT_FALSE(refusal(t, "u:alice", "10.0.0.1", now));
}

TEST(LoginThrottle, LocksAnAddressAcrossAccountsAndASuccessDoesNotClearIt) {
  LoginThrottle t(policy());
  auto now = Clock::now();
  for (int i = 0; i < 9; ++i) t.failed("u:user" + std::to_string(i), "10.0.0.9", now);
  t.succeeded("u:user0");
  EXPECT_FALSE(refusal(t, "u:other", "10.0.0.9", now));
  t.failed("u:user9", "10.0.0.9", now);
  auto locked = refusal(t, "u:other", "10.0.0.9", now);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->reason, Lockout::Reason::kAddress);
  EXPECT_FALSE(refusal(t, "u:other", "10.0.0.10", now));
}

TEST(LoginThrottle, OldFailuresAreForgotten) {
  LoginThrottle t(policy());
  auto now = Clock::now();
  for (int i = 0; i < 2; ++i) t.failed("u:alice", "10.0.0.1", now);
  now += seconds(201);
  t.failed("u:alice", "10.0.0.1", now);
  EXPECT_FALSE(refusal(t, "u:alice", "10.0.0.1", now));
}

TEST(LoginThrottle, MemoryIsBoundedButLocksSurvive) {
  LoginThrottle t(policy(), 100);
  auto now = Clock::now();
  for (int i = 0; i < 3; ++i) t.failed("u:alice", "10.0.0.1", now);
  for (int i = 0; i < 1000; ++i)
    t.failed("u:user" + std::to_string(i), "10.1." + std::to_string(i), now);
  EXPECT_TRUE(refusal(t, "u:alice", "10.9.9.9", now));
}

TEST(AccountLocked, CarriesTheReferencesCodeAndRetryAfter) {
  AccountLocked e(Lockout{Lockout::Reason::kAccount, 42});
  EXPECT_EQ(e.status, 401);
  EXPECT_EQ(e.code, 17003);
  EXPECT_EQ(e.message, "Account is locked");
  EXPECT_NE(e.description.find("42 seconds"), std::string::npos);
  EXPECT_EQ(e.headers.at("Retry-After"), "42");
}

// Two nodes' throttles on one database count into the same rows.
class SharedLoginThrottle : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-throttle-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = store::Database::open((dir_ / "test.db").string(), 2);
    db_->migrate();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(SharedLoginThrottle, FailuresOnTwoNodesAddUpToOneLock) {
  LoginThrottle a(policy(), *db_);
  LoginThrottle b(policy(), *db_);
  auto now = Clock::now();
  a.failed("u:alice", "10.0.0.1", now);
  b.failed("u:alice", "10.0.0.2", now);
  EXPECT_FALSE(refusal(a, "u:alice", "10.0.0.3", now));
  a.failed("u:alice", "10.0.0.3", now);
  auto locked = refusal(b, "u:alice", "10.0.0.4", now);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->reason, Lockout::Reason::kAccount);
  EXPECT_EQ(locked->retry_after_seconds, 60);
}

TEST_F(SharedLoginThrottle, TheBackOffDoublesAndASuccessOnAnotherNodeResetsTheAccount) {
  LoginThrottle a(policy(), *db_);
  LoginThrottle b(policy(), *db_);
  auto now = Clock::now();
  for (int i = 0; i < 3; ++i) a.failed("u:alice", "x", now);
  now += seconds(60);
  EXPECT_FALSE(refusal(b, "u:alice", "y", now));
  for (int i = 0; i < 3; ++i) b.failed("u:alice", "z", now);
  auto locked = refusal(a, "u:alice", "w", now);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->retry_after_seconds, 120);
  now += seconds(120);
  for (int i = 0; i < 2; ++i) a.failed("u:alice", "v", now);
  b.succeeded("u:alice");
  for (int i = 0; i < 2; ++i) a.failed("u:alice", "v", now);
  EXPECT_FALSE(refusal(b, "u:alice", "u", now));
}

}  // namespace
}  // namespace portico::keymanager
