// Long windows between a real redis-server and a SQLite database.
#include "trafficmanager/long_windows.h"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>

#include "events/redis_test_server.h"
#include "store/database.h"

namespace portico::trafficmanager {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kNow = 1'800'000'000'000;

CounterAsk day_counter(std::int64_t limit) {
  CounterAsk c;
  c.key = "9f86d081884c7d65";
  c.window_ms = kDayMs;
  c.window = kNow / kDayMs;
  c.limit = limit;
  return c;
}

class LongWindowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!events::testing::redis_server_available()) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(server.start());
    path = std::filesystem::temp_directory_path() /
           ("long-windows-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path);
    db = store::Database::open(path.string(), 2);
    db->migrate();
    redis = std::make_unique<RedisPool>(events::RedisAddress{"127.0.0.1", server.port(), "", 0},
                                        1000ms, 2);
    windows = std::make_unique<LongWindows>(*db, *redis, RedisKeys("test"));
  }
  void TearDown() override {
    windows.reset();
    db.reset();
    if (!path.empty()) std::filesystem::remove(path);
  }
  void set_in_redis(const CounterAsk& c, std::int64_t value) {
    auto connection = redis->acquire();
    ASSERT_TRUE(connection->ensure_connected());
    connection->command({"SET", RedisKeys("test").counter(c), std::to_string(value)});
  }

  events::testing::RedisTestServer server;
  std::filesystem::path path;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<RedisPool> redis;
  std::unique_ptr<LongWindows> windows;
};

TEST_F(LongWindowsTest, ACounterNeverSeenStartsFromZero) {
  EXPECT_EQ(windows->seed(day_counter(10)), 0);
}

TEST_F(LongWindowsTest, AFlushWritesTheCurrentRedisValueOfWhatWasTouched) {
  CounterAsk c = day_counter(10);
  windows->touched(c, 4);
  set_in_redis(c, 7);  // another traffic manager granted more since
  ASSERT_TRUE(windows->flush(kNow));
  store::QuotaWindowsRepository stored(*db);
  EXPECT_EQ(stored.used(c.key, c.window_ms, c.window), 7);
  auto open = stored.open_windows(kNow);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].limit_amount, 10);
}

TEST_F(LongWindowsTest, WithoutRedisAFlushWritesTheLastCountSeen) {
  CounterAsk c = day_counter(10);
  windows->touched(c, 4);
  server.stop();
  ASSERT_TRUE(windows->flush(kNow));
  EXPECT_EQ(store::QuotaWindowsRepository(*db).used(c.key, c.window_ms, c.window), 4);
}

TEST_F(LongWindowsTest, ASeedComesFromTheDatabaseOnceThenFromWhatWasLastSeen) {
  CounterAsk c = day_counter(10);
  store::QuotaWindowsRepository stored(*db);
  stored.save_greatest({{c.key, c.window_ms, c.window, 6, 10}});
  EXPECT_EQ(windows->seed(c), 6);
  windows->touched(c, 8);
  EXPECT_EQ(windows->seed(c), 8);
}

TEST_F(LongWindowsTest, SpentListsOpenWindowsAtTheirLimit) {
  CounterAsk spent = day_counter(10);
  CounterAsk open = day_counter(10);
  open.key = "0000000000000001";
  windows->touched(spent, 10);
  windows->touched(open, 3);
  server.stop();
  ASSERT_TRUE(windows->flush(kNow));
  auto list = windows->spent(kNow);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].counter_key, spent.key);
  EXPECT_TRUE(windows->spent(spent.window_end_ms()).empty());
}

TEST_F(LongWindowsTest, AFlushForgetsWindowsThatEnded) {
  CounterAsk c = day_counter(10);
  windows->touched(c, 5);
  server.stop();
  ASSERT_TRUE(windows->flush(c.window_end_ms() + 120'000));
  // Nothing remembered: the seed is read from the database again.
  store::QuotaWindowsRepository(*db).save_greatest({{c.key, c.window_ms, c.window, 9, 10}});
  EXPECT_EQ(windows->seed(c), 9);
}

TEST_F(LongWindowsTest, AfterTheDatabaseFailedSeedsDoWithoutItForAWhile) {
  CounterAsk c = day_counter(10);
  auto rename = [&](const std::string& from, const std::string& to) {
    db->with_session(
        [&](soci::session& sql) { sql << "ALTER TABLE " + from + " RENAME TO " + to; });
  };
  rename("quota_windows", "quota_windows_away");
  EXPECT_EQ(windows->seed(c), 0);
  rename("quota_windows_away", "quota_windows");
  store::QuotaWindowsRepository(*db).save_greatest({{c.key, c.window_ms, c.window, 9, 10}});
  // A lease call does not wait on a database that just failed.
  EXPECT_EQ(windows->seed(c), 0);
}

}  // namespace
}  // namespace portico::trafficmanager
