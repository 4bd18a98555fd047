// A gateway without database: its rollups go to the control plane through Options::ship,
// here a fake control plane that stores batches once per id, or fails, on demand.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "analytics/analytics.h"
#include "analytics/batch.h"
#include "analytics/test_support.h"

namespace portico::analytics {
namespace {

using testing::make_event;
using testing::parse_exposition;

// What the control plane does with a batch: store it and answer, fail before storing, or
// store it and lose the answer.
enum class Mode { accept, unreachable, server_error, lose_answer, refuse };

struct FakeControlPlane {
  Mode mode = Mode::accept;
  std::vector<std::string> attempts;             // batch ids in the order they were sent
  std::map<std::string, Batch> stored;           // by batch id: each stored once
  std::vector<std::size_t> rollups_per_request;  // of every request

  ShipResult receive(std::string_view batch_id, std::string_view body) {
    attempts.emplace_back(batch_id);
    Batch batch = parse_batch(body);  // throws (failing the test) on a malformed body
    EXPECT_EQ(batch.batch_id, batch_id);
    rollups_per_request.push_back(batch.rollups.size());
    switch (mode) {
      case Mode::unreachable:
        return {0};
      case Mode::server_error:
        return {503};
      case Mode::refuse:
        return {400};
      case Mode::accept:
      case Mode::lose_answer:
        stored.emplace(batch.batch_id, std::move(batch));
        return {mode == Mode::accept ? 200 : 0};
    }
    return {0};
  }

  std::int64_t requests() const {
    std::int64_t n = 0;
    for (const auto& [id, batch] : stored)
      for (const auto& [key, counters] : batch.rollups) n += counters.requests;
    return n;
  }
};

class AnalyticsShippingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-analytics-ship-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    options_.data_dir = dir_.string();
    options_.node_id = "gw-1";
    options_.ship = [this](std::string_view id, std::string_view body) {
      return control_plane_.receive(id, body);
    };
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static void record(Recorder& recorder, int n, const std::string& api = "Pets") {
    for (int i = 0; i < n; ++i)
      recorder.record(make_event({.api = api, .timestamp_ms = 1'700'000'040'000}));
  }

  std::size_t spill_files() const {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "analytics-spill", ec))
      if (entry.path().extension() == ".jsonl") ++n;
    return n;
  }

  std::filesystem::path dir_;
  Options options_;
  FakeControlPlane control_plane_;
};

TEST_F(AnalyticsShippingTest, BatchesReachTheControlPlaneWithTheNodeId) {
  Recorder recorder(options_, nullptr);
  recorder.start();
  record(recorder, 5);
  recorder.flush_now();
  record(recorder, 3, "Orders");
  recorder.flush_now();
  ASSERT_EQ(control_plane_.stored.size(), 2u);
  EXPECT_EQ(control_plane_.requests(), 8);
  for (const auto& [id, batch] : control_plane_.stored) {
    EXPECT_EQ(batch.node_id, "gw-1");
    for (const auto& [key, counters] : batch.rollups) EXPECT_EQ(key.node_id, "gw-1");
  }
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  recorder.stop();
  EXPECT_EQ(control_plane_.stored.size(), 2u);  // nothing left to send at stop
}

TEST_F(AnalyticsShippingTest, AFailingControlPlaneSpillsAndGetsTheBatchesOldestFirstOnItsReturn) {
  Recorder recorder(options_, nullptr);
  recorder.start();
  control_plane_.mode = Mode::unreachable;
  record(recorder, 4);
  recorder.flush_now();
  ASSERT_EQ(control_plane_.attempts.size(), 1u);
  const std::string first_batch = control_plane_.attempts.front();
  control_plane_.mode = Mode::server_error;
  record(recorder, 2, "Orders");
  recorder.flush_now();
  record(recorder, 1, "Stock");
  recorder.flush_now();
  EXPECT_TRUE(control_plane_.stored.empty());
  EXPECT_GE(recorder.pending_spill_files(), 2u);
  EXPECT_EQ(spill_files(), recorder.pending_spill_files());

  // Every retry while it failed began with the oldest batch, under its first id.
  for (const std::string& id : control_plane_.attempts) EXPECT_EQ(id, first_batch);

  control_plane_.mode = Mode::accept;
  control_plane_.attempts.clear();
  recorder.flush_now();
  EXPECT_EQ(control_plane_.requests(), 7);
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  EXPECT_EQ(spill_files(), 0u);
  ASSERT_FALSE(control_plane_.attempts.empty());
  EXPECT_EQ(control_plane_.attempts.front(), first_batch);
  EXPECT_TRUE(std::is_sorted(control_plane_.attempts.begin(), control_plane_.attempts.end()));
}

TEST_F(AnalyticsShippingTest, ABatchWhoseAnswerWasLostIsSentAgainUnderTheSameId) {
  Recorder recorder(options_, nullptr);
  control_plane_.mode = Mode::lose_answer;
  record(recorder, 6);
  recorder.flush_now();
  ASSERT_EQ(control_plane_.attempts.size(), 1u);
  EXPECT_EQ(recorder.pending_spill_files(), 1u);

  control_plane_.mode = Mode::accept;
  recorder.flush_now();
  ASSERT_EQ(control_plane_.attempts.size(), 2u);
  EXPECT_EQ(control_plane_.attempts[1], control_plane_.attempts[0]);
  EXPECT_EQ(control_plane_.stored.size(), 1u);  // one id: the control plane counts it once
  EXPECT_EQ(control_plane_.requests(), 6);
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
}

TEST_F(AnalyticsShippingTest, SpilledBatchesSurviveARestart) {
  control_plane_.mode = Mode::unreachable;
  {
    Recorder first(options_, nullptr);
    first.start();
    record(first, 9);
    first.stop();  // the final send fails: the rollups go to disk
  }
  EXPECT_EQ(spill_files(), 1u);
  control_plane_.mode = Mode::accept;
  Recorder second(options_, nullptr);
  second.start();
  EXPECT_EQ(second.pending_spill_files(), 1u);
  second.flush_now();
  EXPECT_EQ(control_plane_.requests(), 9);
  EXPECT_EQ(spill_files(), 0u);
}

TEST_F(AnalyticsShippingTest, TheSpillDirectoryStaysWithinItsBoundDroppingTheOldest) {
  // One rollup line is about 400 bytes: the bound holds three or four files of one rollup.
  options_.max_spill_bytes = 1500;
  control_plane_.mode = Mode::server_error;
  Recorder recorder(options_, nullptr);
  recorder.start();
  std::uintmax_t largest = 0;
  for (int round = 0; round < 12; ++round) {
    record(recorder, 1, "api-" + std::to_string(round));
    // A failed send spills the batch under its id; the next attempt fails on the oldest file
    // and spills the new rollups: one file per round.
    recorder.flush_now();
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "analytics-spill"))
      total += entry.file_size();
    largest = std::max(largest, total);
  }
  EXPECT_LE(largest, options_.max_spill_bytes);
  std::string error;
  auto metrics = parse_exposition(recorder.prometheus_text(), error);
  ASSERT_TRUE(metrics) << error;
  const double dropped = metrics->sum("portico_analytics_spill_dropped_batches_total");
  EXPECT_GT(dropped, 0);

  // What is left is the newest rounds' traffic.
  control_plane_.mode = Mode::accept;
  recorder.flush_now();
  std::set<std::string> apis;
  for (const auto& [id, batch] : control_plane_.stored)
    for (const auto& [key, counters] : batch.rollups) apis.insert(key.api_name);
  EXPECT_TRUE(apis.count("api-11"));
  EXPECT_FALSE(apis.count("api-0"));
  EXPECT_EQ(control_plane_.requests() + static_cast<std::int64_t>(dropped), 12);
}

TEST_F(AnalyticsShippingTest, ARefusedBatchIsCountedAndNotSentAgain) {
  Recorder recorder(options_, nullptr);
  control_plane_.mode = Mode::refuse;
  record(recorder, 2);
  recorder.flush_now();
  EXPECT_EQ(control_plane_.attempts.size(), 1u);
  EXPECT_EQ(recorder.pending_spill_files(), 0u);
  control_plane_.mode = Mode::accept;
  recorder.flush_now();
  EXPECT_EQ(control_plane_.attempts.size(), 1u);
  std::string error;
  auto metrics = parse_exposition(recorder.prometheus_text(), error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_EQ(metrics->sum("portico_analytics_refused_batches_total"), 1);
}

TEST_F(AnalyticsShippingTest, ManyRollupsAreCutIntoBatchesTheControlPlaneTakes) {
  options_.queue_capacity = 4000;
  Recorder big(options_, nullptr);
  for (int i = 0; i < 2500; ++i) record(big, 1, "api-" + std::to_string(i));
  big.flush_now();
  EXPECT_EQ(control_plane_.requests(), 2500);
  EXPECT_EQ(control_plane_.stored.size(), 3u);
  for (std::size_t n : control_plane_.rollups_per_request) EXPECT_LE(n, kMaxBatchRollups);
}

TEST_F(AnalyticsShippingTest, EveryMetricCarriesTheNodeId) {
  Recorder recorder(options_, nullptr);
  record(recorder, 3);
  recorder.flush_now();
  std::string error;
  auto metrics = parse_exposition(recorder.prometheus_text(), error);
  ASSERT_TRUE(metrics) << error;
  ASSERT_FALSE(metrics->samples.empty());
  for (const auto& sample : metrics->samples) {
    auto it = sample.labels.find("node_id");
    ASSERT_NE(it, sample.labels.end()) << sample.name;
    EXPECT_EQ(it->second, "gw-1");
  }
  EXPECT_EQ(metrics->sum("portico_requests_total", {{"node_id", "gw-1"}}), 3);
}

TEST_F(AnalyticsShippingTest, OtherComponentsMetricsGetTheNodeIdToo) {
  Recorder recorder(options_, nullptr);
  std::string error;
  auto metrics = parse_exposition(
      recorder.with_node_label("# HELP a_total A.\n# TYPE a_total counter\na_total 2\n"
                               "# TYPE b_total counter\nb_total{result=\"found\"} 5\n"),
      error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_EQ(metrics->sum("a_total", {{"node_id", "gw-1"}}), 2);
  EXPECT_EQ(metrics->sum("b_total", {{"node_id", "gw-1"}, {"result", "found"}}), 5);
}

}  // namespace
}  // namespace portico::analytics
