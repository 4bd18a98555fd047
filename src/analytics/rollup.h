#pragma once
// Per-minute rollups: the key an event counts under, the counters it adds to, the latency
// histogram and the percentiles read back from it. Internal to src/analytics.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "analytics/analytics.h"

namespace boost::json {
class object;
}

namespace portico::analytics {

// Upper bounds (inclusive, ms) of the latency histogram's buckets; one more bucket holds the
// rest. Roughly ×1.5–2 apart, so that a percentile read from it is within one bucket of the
// truth: ±25% or better below 1 s. Changing them changes the table's columns (h00..h24).
inline constexpr std::array<std::int64_t, 24> kLatencyBoundsMs = {
    1,   2,   3,   5,   8,    12,   20,   30,   50,   75,    100,   150,
    200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000, 60000};
inline constexpr std::size_t kLatencyBuckets = kLatencyBoundsMs.size() + 1;

// The bucket a latency falls in.
std::size_t latency_bucket(std::int64_t latency_ms);

// "2xx".."5xx" ("1xx" for informational answers); codes outside 100..599 count as "5xx": the
// client got no proper answer.
std::string status_class(int proxy_response_code);

// Throttled out: 900800..900807 (API, resource, application, subscription, burst, blocked...).
inline bool is_throttled_code(long code) {
  return code >= 900800 && code <= 900807;
}
// Authentication and authorization failures: 900900..900910.
inline bool is_auth_failure_code(long code) {
  return code >= 900900 && code <= 900910;
}
// Backend failures as the reference codes them: 101500..101599 (connect, timeout, closed...).
inline bool is_upstream_error_code(long code) {
  return code >= 101500 && code <= 101599;
}

struct RollupKey {
  std::int64_t minute = 0;  // unix seconds of the minute's start
  std::string api_id, api_name, api_version, api_method, resource_template, application_id,
      application_name, application_owner, status_class;
  std::string node_id;  // the gateway that served the calls

  auto tie() const {
    return std::tie(minute, api_id, api_name, api_version, api_method, resource_template,
                    application_id, application_name, application_owner, status_class, node_id);
  }
  bool operator<(const RollupKey& other) const { return tie() < other.tie(); }
  bool operator==(const RollupKey& other) const { return tie() == other.tie(); }
};

struct RollupCounters {
  std::int64_t requests = 0;
  std::int64_t errors = 0;     // proxy status >= 400 or an error code
  std::int64_t throttled = 0;  // error codes 900800..900807
  std::int64_t latency_sum_ms = 0;
  std::int64_t request_bytes = 0;
  std::int64_t response_bytes = 0;
  std::array<std::int64_t, kLatencyBuckets> histogram{};

  void add(const RollupCounters& other);
};

// Rollups keyed and ordered by key: the order rows are upserted in, so that two nodes writing
// the same rows lock them in the same order (no deadlock on PostgreSQL).
using RollupMap = std::map<RollupKey, RollupCounters>;

// Key columns are part of the primary key: PostgreSQL refuses index rows over ~2.7 KB.
inline constexpr std::size_t kMaxKeyField = 256;
inline constexpr std::size_t kMaxMethodField = 16;

// The key of an event: strings bounded and made valid UTF-8 (PostgreSQL refuses invalid text,
// and one bad row would fail every later write).
RollupKey rollup_key(const Event& event, std::string_view node_id = {});
// What one event adds.
RollupCounters rollup_counters(const Event& event);
void add_event(RollupMap& rollups, const Event& event);

// Adds a stream of events to `rollups`. Consecutive events with the same key (most of a busy
// drain: one API, resource, application, status class and minute) add to the same counters
// without building the key again: their raw fields are compared with the previous event's.
class RollupAccumulator {
 public:
  // `node_id`: the gateway every event comes from.
  explicit RollupAccumulator(RollupMap& rollups, std::string_view node_id = {})
      : rollups_(rollups), node_id_(node_id) {}
  void add(const Event& event);

 private:
  bool same_key_as_previous(const Event& event, std::int64_t minute, std::string_view status) const;

  RollupMap& rollups_;
  std::string node_id_;
  RollupCounters* previous_counters_ = nullptr;
  std::int64_t previous_minute_ = 0;
  std::string previous_status_;
  Event previous_;  // the key's raw fields of the previous event
};
void merge(RollupMap& into, const RollupMap& from);

// The q-quantile (0 < q <= 1) of the latencies in `histogram`, interpolated linearly inside the
// bucket it falls in; the last finite bound when it falls in the open bucket. nullopt when the
// histogram is empty.
std::optional<double> latency_quantile(const std::array<std::int64_t, kLatencyBuckets>& histogram,
                                       double q);

// Spill files and shipped batches: one rollup as one JSON object. parse_rollup_line returns
// nullopt on a malformed line.
std::string rollup_line(const RollupKey& key, const RollupCounters& counters);
std::optional<std::pair<RollupKey, RollupCounters>> parse_rollup_line(std::string_view line);
// One rollup from outside (a gateway's batch), checked whole: integer counters from 0, a
// histogram whose buckets add up to `requests`, errors and throttled within `requests`, a
// minute's start, a status class, key strings of valid UTF-8 without NUL within the column
// bounds. Throws ApiError 400 naming the field at fault.
std::pair<RollupKey, RollupCounters> read_rollup(const boost::json::object& rollup);

// `text` as valid UTF-8 of at most `max_bytes` bytes: invalid bytes and NUL become '?', and a
// cut never splits a character.
std::string clean_text(std::string_view text, std::size_t max_bytes);

}  // namespace portico::analytics
