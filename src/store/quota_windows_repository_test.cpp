#include "store/quota_windows_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;

class QuotaWindowsRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) rows_ = std::make_unique<QuotaWindowsRepository>(*db_);
  }
  std::unique_ptr<QuotaWindowsRepository> rows_;
};
PORTICO_STORE_BACKENDS(QuotaWindowsRepositoryTest);

TEST_P(QuotaWindowsRepositoryTest, AWindowNeverStoredHasNoCount) {
  EXPECT_EQ(rows_->used("9f86d081884c7d65", kDay, 20000), std::nullopt);
}

TEST_P(QuotaWindowsRepositoryTest, SavingKeepsTheLargerCountAndTheKnownLimit) {
  rows_->save_greatest({{"9f86d081884c7d65", kDay, 20000, 7, 100}});
  rows_->save_greatest({{"9f86d081884c7d65", kDay, 20000, 5, 0}});
  EXPECT_EQ(rows_->used("9f86d081884c7d65", kDay, 20000), 7);
  rows_->save_greatest({{"9f86d081884c7d65", kDay, 20000, 9, 0}});
  EXPECT_EQ(rows_->used("9f86d081884c7d65", kDay, 20000), 9);

  auto open = rows_->open_windows(20000 * kDay);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].used, 9);
  EXPECT_EQ(open[0].limit_amount, 100);
}

TEST_P(QuotaWindowsRepositoryTest, WindowsOfOneKeyAreKeptApart) {
  rows_->save_greatest({{"9f86d081884c7d65", kDay, 20000, 3, 10},
                        {"9f86d081884c7d65", kDay, 20001, 4, 10},
                        {"9f86d081884c7d65", kHour, 480000, 5, 10},
                        {"0000000000000001", kDay, 20000, 6, 10}});
  EXPECT_EQ(rows_->used("9f86d081884c7d65", kDay, 20000), 3);
  EXPECT_EQ(rows_->used("9f86d081884c7d65", kDay, 20001), 4);
  EXPECT_EQ(rows_->used("9f86d081884c7d65", kHour, 480000), 5);
  EXPECT_EQ(rows_->used("0000000000000001", kDay, 20000), 6);
}

TEST_P(QuotaWindowsRepositoryTest, OnlyWindowsNotEndedAreOpenAndEndedOnesArePurged) {
  // Day 20000 ends at 20001 * kDay; day 20001 at 20002 * kDay.
  rows_->save_greatest(
      {{"aaaaaaaaaaaaaaaa", kDay, 20000, 1, 0}, {"bbbbbbbbbbbbbbbb", kDay, 20001, 2, 0}});
  const std::int64_t now = 20001 * kDay;  // the first has just ended
  auto open = rows_->open_windows(now);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].counter_key, "bbbbbbbbbbbbbbbb");
  EXPECT_EQ(open[0].window_ms, kDay);
  EXPECT_EQ(open[0].window_index, 20001);
  EXPECT_EQ(open[0].used, 2);

  EXPECT_EQ(rows_->purge_ended(now), 1u);
  EXPECT_EQ(rows_->used("aaaaaaaaaaaaaaaa", kDay, 20000), std::nullopt);
  EXPECT_EQ(rows_->used("bbbbbbbbbbbbbbbb", kDay, 20001), 2);
  EXPECT_EQ(rows_->purge_ended(now), 0u);
}

TEST_P(QuotaWindowsRepositoryTest, SavingNothingChangesNothing) {
  rows_->save_greatest({});
  EXPECT_TRUE(rows_->open_windows(0).empty());
}

}  // namespace
}  // namespace portico::store
