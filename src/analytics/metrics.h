#pragma once
// The Prometheus metrics kept from drained events. Not thread-safe: the Recorder guards it
// with a mutex shared by the flusher and the scraper only. Internal to src/analytics.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "analytics/analytics.h"

namespace portico::analytics {

// Bucket upper bounds (seconds) of portico_request_duration_seconds: Prometheus' defaults.
inline constexpr std::array<double, 11> kDurationBoundsSeconds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

// Figures the metrics show that do not come from events.
struct RecorderGauges {
  std::uint64_t dropped = 0;
  std::uint64_t queue_capacity = 0;
  std::uint64_t snapshot_version = 0;
  std::uint64_t events = 0;  // drained since start
  std::uint64_t write_failures = 0;
  std::uint64_t spill_files = 0;
  std::uint64_t spill_dropped = 0;    // batches removed to keep the spill directory bounded
  std::uint64_t refused_batches = 0;  // batches the control plane refused for good
};

class Metrics {
 public:
  // Every sample carries node_id="<node_id>": several gateways' metrics stay apart wherever
  // they are gathered.
  void set_node_id(std::string_view node_id);
  void observe(const Event& event);
  std::string text(const RecorderGauges& gauges) const;
  // `exposition` (other components' metrics, Prometheus text) with the node_id label added to
  // every sample.
  std::string label_samples(std::string_view exposition) const;

 private:
  struct Duration {
    std::array<std::uint64_t, kDurationBoundsSeconds.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };
  using ApiCode = std::pair<std::string, long>;

  std::string node_label_;  // node_id="...", escaped once
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> requests_;
  std::map<std::string, Duration> durations_;
  std::map<ApiCode, std::uint64_t> throttled_;
  std::map<ApiCode, std::uint64_t> auth_failures_;
  std::map<ApiCode, std::uint64_t> upstream_errors_;

  // The previous event's raw labels and its counters (std::map: addresses stay valid), so
  // that consecutive events of one API and status class skip building labels and lookups.
  std::string previous_api_name_, previous_api_version_, previous_status_;
  std::uint64_t* previous_requests_ = nullptr;
  Duration* previous_duration_ = nullptr;
};

// A label value escaped per the exposition format: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

}  // namespace portico::analytics
