// Rollups in the database and the spill files, on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "analytics/analytics.h"
#include "analytics/analytics_repository.h"
#include "analytics/spill.h"
#include "analytics/test_support.h"
#include "store/store_test_fixture.h"

namespace portico::analytics {
namespace {

using testing::EventSpec;
using testing::make_event;

constexpr std::int64_t kMinute0 = 1'700'000'040;  // a minute's start, unix seconds
constexpr std::int64_t kMs0 = kMinute0 * 1000;

class AnalyticsRollupsTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = std::filesystem::temp_directory_path() /
                ("portico-analytics-" + store::testing::random_suffix());
    dirs_.push_back(data_dir_);
    options_.data_dir = data_dir_.string();
  }

  std::map<std::string, RollupCounters> totals(GroupBy group_by,
                                               std::optional<std::string> api_id = {},
                                               std::optional<std::string> owner = {}) {
    AnalyticsRepository repository(*db_);
    RollupQuery q;
    q.from_minute = kMinute0 - 3600;
    q.to_minute = kMinute0 + 3600;
    q.group_by = group_by;
    q.api_id = std::move(api_id);
    q.application_owner = std::move(owner);
    std::map<std::string, RollupCounters> out;
    for (const RollupGroup& g : repository.query(q)) {
      std::string name;
      switch (group_by) {
        case GroupBy::api:
          name = g.key.api_name + " " + g.key.api_version;
          break;
        case GroupBy::application:
          name = g.key.application_id + " " + g.key.application_owner;
          break;
        case GroupBy::resource:
          name = g.key.api_name + " " + g.key.api_method + " " + g.key.resource_template;
          break;
        case GroupBy::status:
          name = g.key.status_class;
          break;
        case GroupBy::minute:
          name = std::to_string(g.key.minute - kMinute0);
          break;
        case GroupBy::node:
          name = g.key.node_id;
          break;
      }
      out[name] = g.totals;
    }
    return out;
  }

  std::int64_t total_requests() {
    std::int64_t n = 0;
    for (const auto& [name, c] : totals(GroupBy::api)) n += c.requests;
    return n;
  }

  // The rollups table out of the way and back: the writes fail meanwhile, as with a database
  // that is down (the error differs; the writer treats both alike).
  void break_table() {
    db_->with_session([](soci::session& sql) {
      sql << "ALTER TABLE analytics_rollups RENAME TO analytics_rollups_away";
    });
  }
  void repair_table() {
    db_->with_session([](soci::session& sql) {
      sql << "ALTER TABLE analytics_rollups_away RENAME TO analytics_rollups";
    });
  }

  void record(Recorder& recorder, int n, EventSpec spec = {}) {
    if (spec.timestamp_ms == EventSpec{}.timestamp_ms) spec.timestamp_ms = kMs0 + 1000;
    for (int i = 0; i < n; ++i) recorder.record(make_event(spec));
  }

  std::filesystem::path data_dir_;
  Options options_;
};
PORTICO_STORE_BACKENDS(AnalyticsRollupsTest);

TEST_P(AnalyticsRollupsTest, RollupsPerGroupAndPerMinute) {
  Recorder recorder(options_, db_.get());
  const std::int64_t t0 = kMs0 + 5'000, t1 = kMs0 + 65'000;
  record(recorder, 3, {.api = "A", .app = "app-1", .owner = "sam", .timestamp_ms = t0});
  record(recorder, 1,
         {.api = "A", .app = "app-1", .owner = "sam", .status = 500, .timestamp_ms = t0});
  record(recorder, 2,
         {.api = "A",
          .app = "app-1",
          .owner = "sam",
          .status = 429,
          .timestamp_ms = t0,
          .error_code = 900802});
  record(recorder, 4,
         {.api = "B",
          .app = "app-2",
          .owner = "kim",
          .timestamp_ms = t1,
          .method = "POST",
          .resource = "/orders"});
  recorder.flush_now();

  auto by_api = totals(GroupBy::api);
  ASSERT_EQ(by_api.size(), 2u);
  EXPECT_EQ(by_api["A 1.0.0"].requests, 6);
  EXPECT_EQ(by_api["A 1.0.0"].errors, 3);
  EXPECT_EQ(by_api["A 1.0.0"].throttled, 2);
  EXPECT_EQ(by_api["A 1.0.0"].latency_sum_ms, 60);
  EXPECT_EQ(by_api["A 1.0.0"].request_bytes, 600);
  EXPECT_EQ(by_api["B 1.0.0"].requests, 4);
  EXPECT_EQ(by_api["B 1.0.0"].errors, 0);

  auto by_minute = totals(GroupBy::minute);
  ASSERT_EQ(by_minute.size(), 2u);
  EXPECT_EQ(by_minute["0"].requests, 6);
  EXPECT_EQ(by_minute["60"].requests, 4);

  auto by_status = totals(GroupBy::status);
  EXPECT_EQ(by_status["2xx"].requests, 7);
  EXPECT_EQ(by_status["4xx"].requests, 2);
  EXPECT_EQ(by_status["5xx"].requests, 1);

  auto by_application = totals(GroupBy::application);
  EXPECT_EQ(by_application["app-1 sam"].requests, 6);
  EXPECT_EQ(by_application["app-2 kim"].requests, 4);

  auto by_resource = totals(GroupBy::resource);
  EXPECT_EQ(by_resource["A GET /pets"].requests, 6);
  EXPECT_EQ(by_resource["B POST /orders"].requests, 4);

  EXPECT_EQ(totals(GroupBy::api, "id-B").size(), 1u);
  auto sams = totals(GroupBy::application, std::nullopt, "sam");
  ASSERT_EQ(sams.size(), 1u);
  EXPECT_EQ(sams.begin()->first, "app-1 sam");

  // A later flush adds to the same rows.
  record(recorder, 1, {.api = "A", .app = "app-1", .owner = "sam", .timestamp_ms = t0 + 1});
  recorder.flush_now();
  EXPECT_EQ(totals(GroupBy::api)["A 1.0.0"].requests, 7);
}

TEST_P(AnalyticsRollupsTest, HistogramsAddUpAcrossFlushesAndAnswerPercentiles) {
  Recorder recorder(options_, db_.get());
  for (std::int64_t latency = 1; latency <= 1000; ++latency) {
    recorder.record(make_event({.latency_ms = latency, .timestamp_ms = kMs0}));
    if (latency % 250 == 0) recorder.flush_now();  // four flushes, four upserts of one row
  }
  auto rows = totals(GroupBy::api);
  ASSERT_EQ(rows.size(), 1u);
  const RollupCounters& c = rows.begin()->second;
  EXPECT_EQ(c.requests, 1000);
  EXPECT_EQ(c.latency_sum_ms, 500500);
  std::int64_t in_histogram = 0;
  for (std::int64_t n : c.histogram) in_histogram += n;
  EXPECT_EQ(in_histogram, 1000);
  auto p50 = latency_quantile(c.histogram, 0.5);
  auto p90 = latency_quantile(c.histogram, 0.9);
  auto p99 = latency_quantile(c.histogram, 0.99);
  ASSERT_TRUE(p50 && p90 && p99);
  EXPECT_GT(*p50, 300);  // the truth, 500, is in the bucket (300, 500]
  EXPECT_LE(*p50, 500);
  EXPECT_GT(*p90, 750);  // 900 in (750, 1000]
  EXPECT_LE(*p90, 1000);
  EXPECT_GT(*p99, 750);  // 990 in (750, 1000]
  EXPECT_LE(*p99, 1000);
}

TEST_P(AnalyticsRollupsTest, SpillsWhileTheDatabaseFailsAndReplaysExactlyOnce) {
  Recorder recorder(options_, db_.get());
  recorder.start();
  record(recorder, 10);
  recorder.flush_now();
  EXPECT_EQ(total_requests(), 10);

  break_table();
  record(recorder, 5);
  recorder.flush_now();
  EXPECT_EQ(recorder.pending_spill_files(), 1u);
  EXPECT_TRUE(std::filesystem::exists(data_dir_ / "analytics-spill"));
  record(recorder, 3, {.api = "Other"});
  recorder.flush_now();
  EXPECT_GE(recorder.pending_spill_files(), 1u);

  repair_table();
  EXPECT_EQ(total_requests(), 10);  // nothing reached the table meanwhile
  recorder.flush_now();
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  EXPECT_EQ(total_requests(), 18);
  EXPECT_EQ(totals(GroupBy::api)["Other 1.0.0"].requests, 3);
  recorder.flush_now();
  EXPECT_EQ(total_requests(), 18);
  recorder.stop();
  EXPECT_EQ(total_requests(), 18);
  EXPECT_TRUE(std::filesystem::is_empty(data_dir_ / "analytics-spill"));
}

TEST_P(AnalyticsRollupsTest, ALockedDatabaseSpillsToo) {
  // Another process holds SQLite's write lock past the busy timeout: the write fails with
  // store::UnavailableError, as with a database that is down.
  if (GetParam() != store::Backend::sqlite) GTEST_SKIP() << "SQLite's write lock";
  auto other = open_again(1);
  std::mutex mutex;
  std::condition_variable changed;
  bool locked = false, release = false;
  std::thread holder([&] {
    other->in_transaction([&](soci::session& sql) {
      sql << "INSERT INTO analytics_batches (batch_id, applied_at) VALUES ('holder', 0)";
      std::unique_lock lock(mutex);
      locked = true;
      changed.notify_all();
      changed.wait(lock, [&] { return release; });
    });
  });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return locked; });
  }
  Recorder recorder(options_, db_.get());
  record(recorder, 4);
  recorder.flush_now();  // waits out the busy timeout, then spills
  EXPECT_EQ(recorder.pending_spill_files(), 1u);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  holder.join();
  recorder.flush_now();
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  EXPECT_EQ(total_requests(), 4);
}

TEST_P(AnalyticsRollupsTest, OutageThroughTheWriterThreadLosesNothing) {
  options_.flush_interval_ms = 10;
  options_.drain_interval_ms = 2;
  Recorder recorder(options_, db_.get());
  recorder.start();
  break_table();
  for (int round = 0; round < 6; ++round) {
    record(recorder, 10, {.api = "api-" + std::to_string(round % 2)});
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  // The writer backs off while it fails: far fewer files than the 18+ intervals that passed.
  EXPECT_GE(recorder.pending_spill_files(), 1u);
  EXPECT_LE(recorder.pending_spill_files(), 8u);
  repair_table();
  recorder.stop();
  EXPECT_EQ(total_requests(), 60);
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
}

TEST_P(AnalyticsRollupsTest, SpillFilesSurviveARestart) {
  {
    Recorder first(options_, db_.get());
    first.start();
    break_table();
    record(first, 7);
    first.stop();  // the final write fails: the rollups go to disk
    EXPECT_EQ(first.pending_spill_files(), 1u);
  }
  repair_table();
  Recorder second(options_, db_.get());
  second.start();
  EXPECT_EQ(second.pending_spill_files(), 1u);
  second.flush_now();
  EXPECT_EQ(total_requests(), 7);
  EXPECT_EQ(second.pending_spill_files(), 0u);
}

TEST_P(AnalyticsRollupsTest, ABatchWhoseCommitWentThroughIsNotAddedAgain) {
  // The write committed but its answer was lost: the writer spilled it under its batch id.
  RollupMap rollups;
  add_event(rollups, make_event({.timestamp_ms = kMs0}));
  add_event(rollups, make_event({.timestamp_ms = kMs0}));
  const std::string batch_id = "1700000040000-000001-0000abcd";
  AnalyticsRepository repository(*db_);
  ASSERT_TRUE(repository.add_batch(batch_id, rollups, 1'700'000'100));
  SpillStore spill(data_dir_ / "analytics-spill");
  spill.open();
  spill.write(batch_id, rollups);

  Recorder recorder(options_, db_.get());
  recorder.start();
  recorder.flush_now();
  EXPECT_EQ(total_requests(), 2);
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  EXPECT_FALSE(repository.add_batch(batch_id, rollups, 1'700'000'200));
  EXPECT_EQ(total_requests(), 2);
}

TEST_P(AnalyticsRollupsTest, GatewayBatchesAreAddedOncePerGatewayAndBatchId) {
  RollupMap first, second;
  for (int i = 0; i < 3; ++i) add_event(first, make_event({.timestamp_ms = kMs0}));
  add_event(second, make_event({.api = "Orders", .timestamp_ms = kMs0}));
  for (auto* rollups : {&first, &second}) {
    RollupMap keyed;
    for (auto& [key, counters] : *rollups) {
      RollupKey k = key;
      k.node_id = rollups == &first ? "gw-1" : "gw-2";
      keyed[k] = counters;
    }
    *rollups = std::move(keyed);
  }
  AnalyticsRepository repository(*db_);
  EXPECT_TRUE(repository.add_received_batch("gw-1", "b-1", first, kMinute0));
  EXPECT_FALSE(repository.add_received_batch("gw-1", "b-1", first, kMinute0 + 5));
  // Batch ids are per gateway: another gateway's b-1 is another batch.
  EXPECT_TRUE(repository.add_received_batch("gw-2", "b-1", second, kMinute0));
  auto by_node = totals(GroupBy::node);
  ASSERT_EQ(by_node.size(), 2u);
  EXPECT_EQ(by_node["gw-1"].requests, 3);
  EXPECT_EQ(by_node["gw-2"].requests, 1);
  // Local rows and gateway rows add up in the same query.
  Recorder recorder(options_, db_.get());
  record(recorder, 2);
  recorder.flush_now();
  EXPECT_EQ(total_requests(), 6);
}

TEST_P(AnalyticsRollupsTest, ASpillFileThatDoesNotParseIsSetAside) {
  std::filesystem::create_directories(data_dir_ / "analytics-spill");
  std::ofstream(data_dir_ / "analytics-spill" / "0000000000001-000001-00000000.jsonl")
      << "not json\n";
  Recorder recorder(options_, db_.get());
  recorder.start();
  record(recorder, 2);
  recorder.flush_now();
  EXPECT_EQ(total_requests(), 2);
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  EXPECT_TRUE(
      std::filesystem::exists(data_dir_ / "analytics-spill" / "0000000000001-000001-00000000.bad"));
}

TEST_P(AnalyticsRollupsTest, WithoutTheDatabaseSinkNothingIsWritten) {
  options_.database_sink = false;
  Recorder recorder(options_, db_.get());
  recorder.start();
  record(recorder, 3);
  recorder.stop();
  EXPECT_EQ(total_requests(), 0);
  EXPECT_FALSE(std::filesystem::exists(data_dir_ / "analytics-spill"));
}

}  // namespace
}  // namespace portico::analytics
