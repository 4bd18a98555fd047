#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "analytics/analytics.h"
#include "analytics/test_support.h"

namespace portico::analytics {
namespace {

using testing::EventSpec;
using testing::make_event;
using testing::parse_exposition;

class AnalyticsRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-analytics-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    options_.data_dir = dir_.string();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Requests counted by portico_requests_total.
  static double counted(const Recorder& recorder) {
    std::string error;
    auto parsed = parse_exposition(recorder.prometheus_text(), error);
    EXPECT_TRUE(parsed) << error;
    return parsed ? parsed->sum("portico_requests_total") : -1;
  }

  std::filesystem::path dir_;
  Options options_;
};

TEST_F(AnalyticsRecorderTest, EventsFromSeveralThreadsAreAllCounted) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  options_.queue_capacity = kPerThread;
  Recorder recorder(options_, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&recorder, t] {
      for (int i = 0; i < kPerThread; ++i)
        recorder.record(make_event({.api = "api-" + std::to_string(t % 3)}));
    });
  }
  for (auto& t : threads) t.join();
  recorder.flush_now();
  EXPECT_EQ(recorder.dropped(), 0u);
  EXPECT_EQ(counted(recorder), kThreads * kPerThread);
}

TEST_F(AnalyticsRecorderTest, ConcurrentDrainingLosesNothingUncounted) {
  // Small queues drained every millisecond while eight threads push: every event is either
  // counted or dropped, none vanishes and none is counted twice.
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  options_.queue_capacity = 64;
  options_.drain_interval_ms = 1;
  Recorder recorder(options_, nullptr);
  recorder.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&recorder] {
      for (int i = 0; i < kPerThread; ++i) recorder.record(make_event({}));
    });
  }
  for (auto& t : threads) t.join();
  recorder.stop();
  EXPECT_EQ(counted(recorder) + static_cast<double>(recorder.dropped()), kThreads * kPerThread);
}

TEST_F(AnalyticsRecorderTest, FullQueueDropsAndCountsInsteadOfBlocking) {
  options_.queue_capacity = 4;
  Recorder recorder(options_, nullptr);  // not started: nothing drains
  auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < 100'000; ++i) recorder.record(make_event({}));
  auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  EXPECT_EQ(recorder.dropped(), 100'000u - 4);
  recorder.flush_now();
  EXPECT_EQ(counted(recorder), 4);
  // Drained, the queue takes events again.
  recorder.record(make_event({}));
  recorder.flush_now();
  EXPECT_EQ(counted(recorder), 5);

  std::string error;
  auto parsed = parse_exposition(recorder.prometheus_text(), error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->sum("portico_analytics_dropped_total"), 100'000 - 4);
  EXPECT_EQ(parsed->sum("portico_analytics_queue_capacity"), 4);
}

TEST_F(AnalyticsRecorderTest, EventsOfAThreadThatExitedAreCounted) {
  Recorder recorder(options_, nullptr);
  for (int round = 0; round < 3; ++round) {
    std::thread([&recorder] {
      recorder.prepare_thread();
      for (int i = 0; i < 10; ++i) recorder.record(make_event({}));
    }).join();
    recorder.flush_now();
  }
  EXPECT_EQ(counted(recorder), 30);
}

TEST_F(AnalyticsRecorderTest, PrometheusTextParsesWithEscapedLabelsAndCumulativeBuckets) {
  Recorder recorder(options_, nullptr);
  recorder.set_snapshot_version(42);
  const std::string odd = "we\"ird\\na\nme";
  for (std::int64_t latency : {1, 4, 30, 80, 400, 700, 3000, 20000})
    recorder.record(make_event({.api = odd, .latency_ms = latency}));
  recorder.record(make_event({.status = 429, .error_code = 900802, .error_type = "THROTTLED"}));
  recorder.record(make_event({.status = 429, .error_code = 900802, .error_type = "THROTTLED"}));
  recorder.record(make_event({.status = 401, .error_code = 900901, .error_type = "AUTH"}));
  recorder.record(make_event({.status = 504, .error_code = 101504, .error_type = "OTHER"}));
  recorder.record(make_event({.status = 502, .error_type = "TARGET_CONNECTIVITY"}));
  recorder.flush_now();

  std::string text = recorder.prometheus_text();
  std::string error;
  auto parsed = parse_exposition(text, error);
  ASSERT_TRUE(parsed) << error << "\n" << text;
  EXPECT_EQ(parsed->types.at("portico_requests_total"), "counter");
  EXPECT_EQ(parsed->types.at("portico_request_duration_seconds"), "histogram");
  EXPECT_EQ(parsed->types.at("portico_snapshot_version"), "gauge");

  // The odd name survives the round trip through the escapes.
  EXPECT_EQ(parsed->sum("portico_requests_total", {{"api", odd}, {"status_class", "2xx"}}), 8);
  EXPECT_EQ(parsed->sum("portico_requests_total", {{"api", "Pets"}, {"status_class", "4xx"}}), 3);
  EXPECT_EQ(parsed->sum("portico_throttled_total", {{"api", "Pets"}, {"code", "900802"}}), 2);
  EXPECT_EQ(parsed->sum("portico_auth_failures_total", {{"code", "900901"}}), 1);
  EXPECT_EQ(parsed->sum("portico_upstream_errors_total", {{"code", "101504"}}), 1);
  EXPECT_EQ(parsed->sum("portico_upstream_errors_total", {{"code", "502"}}), 1);
  EXPECT_EQ(parsed->sum("portico_snapshot_version"), 42);
  EXPECT_EQ(parsed->sum("portico_analytics_dropped_total"), 0);

  // Buckets per API: `le` ascending, counts never decreasing, +Inf equal to _count.
  for (const std::string& api : {odd, std::string("Pets")}) {
    double previous_le = -1, previous_count = 0, inf = -1;
    for (const auto& s : parsed->samples) {
      if (s.name != "portico_request_duration_seconds_bucket" || s.labels.at("api") != api)
        continue;
      const std::string& le = s.labels.at("le");
      if (le == "+Inf") {
        inf = s.value;
        continue;
      }
      double bound = std::stod(le);
      EXPECT_GT(bound, previous_le);
      EXPECT_GE(s.value, previous_count);
      previous_le = bound;
      previous_count = s.value;
    }
    EXPECT_GE(inf, previous_count);
    EXPECT_EQ(inf, parsed->sum("portico_request_duration_seconds_count", {{"api", api}}));
  }
  EXPECT_EQ(parsed->sum("portico_request_duration_seconds_count", {{"api", odd}}), 8);
  EXPECT_EQ(parsed->sum("portico_request_duration_seconds_bucket", {{"api", odd}, {"le", "0.1"}}),
            4);
  EXPECT_NEAR(parsed->sum("portico_request_duration_seconds_sum", {{"api", odd}}), 24.215, 1e-9);
}

TEST_F(AnalyticsRecorderTest, PrometheusTextIsSafeToReadWhileTheFlusherRuns) {
  options_.drain_interval_ms = 1;
  Recorder recorder(options_, nullptr);
  recorder.start();
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (int i = 0; i < 20000; ++i)
      recorder.record(make_event({.api = "api" + std::to_string(i % 7)}));
    done = true;
  });
  int scrapes = 0;
  while (!done || scrapes < 10) {
    std::string error;
    ASSERT_TRUE(parse_exposition(recorder.prometheus_text(), error)) << error;
    ++scrapes;
  }
  producer.join();
  recorder.stop();
  EXPECT_EQ(counted(recorder) + static_cast<double>(recorder.dropped()), 20000);
}

TEST_F(AnalyticsRecorderTest, FileSinkWritesOneJsonLinePerEvent) {
  options_.file_sink_path = (dir_ / "logs" / "analytics.jsonl").string();
  {
    Recorder recorder(options_, nullptr);
    recorder.start();
    for (int i = 0; i < 5; ++i) recorder.record(make_event({.status = 200 + i}));
    recorder.stop();
  }
  std::ifstream in(options_.file_sink_path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    EXPECT_NE(line.find("\"proxyResponseCode\":" + std::to_string(200 + lines)), std::string::npos)
        << line;
    EXPECT_NE(line.find("\"requestTimestamp\":\"2023-11-14T22:13:20.000Z\""), std::string::npos);
    ++lines;
  }
  EXPECT_EQ(lines, 5);
}

TEST_F(AnalyticsRecorderTest, FileSinkThatCannotBeOpenedFailsStart) {
  std::filesystem::create_directories(dir_);
  options_.file_sink_path = dir_.string();  // a directory
  Recorder recorder(options_, nullptr);
  EXPECT_THROW(recorder.start(), std::runtime_error);
}

}  // namespace
}  // namespace portico::analytics
