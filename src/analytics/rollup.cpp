#include "analytics/rollup.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <limits>

#include "common/api_error.h"
#include "common/json_body.h"

namespace portico::analytics {

namespace json = boost::json;

namespace {

// Length of the valid UTF-8 sequence at the start of `s`, 0 when it is not one.
std::size_t utf8_sequence(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char c = byte(0);
  if (c < 0x80) return c == 0 ? 0 : 1;
  if (c >= 0xC2 && c <= 0xDF) return continuation(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (c == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && byte(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (c == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && byte(1) >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string clean_text(std::string_view text, std::size_t max_bytes) {
  // Nearly every value is short ASCII without NUL: one pass the compiler vectorises, then a
  // plain copy.
  unsigned char high = 0;
  bool nul = false;
  for (char c : text) {
    high |= static_cast<unsigned char>(c);
    nul |= c == '\0';
  }
  if (high < 0x80 && !nul && text.size() <= max_bytes) return std::string(text);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = utf8_sequence(text.substr(i));
    if (n == 0) {
      if (out.size() + 1 > max_bytes) break;
      out += '?';
      ++i;
      continue;
    }
    if (out.size() + n > max_bytes) break;
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::size_t latency_bucket(std::int64_t latency_ms) {
  auto it = std::lower_bound(kLatencyBoundsMs.begin(), kLatencyBoundsMs.end(), latency_ms);
  return static_cast<std::size_t>(it - kLatencyBoundsMs.begin());
}

std::string status_class(int code) {
  if (code < 100 || code > 599) return "5xx";
  return std::to_string(code / 100) + "xx";
}

void RollupCounters::add(const RollupCounters& other) {
  requests += other.requests;
  errors += other.errors;
  throttled += other.throttled;
  latency_sum_ms += other.latency_sum_ms;
  request_bytes += other.request_bytes;
  response_bytes += other.response_bytes;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) histogram[i] += other.histogram[i];
}

namespace {

std::int64_t minute_of(std::int64_t ms) {
  return (ms >= 0 ? ms / 60000 : -((-ms + 59999) / 60000)) * 60;
}

}  // namespace

RollupKey rollup_key(const Event& e, std::string_view node_id) {
  RollupKey key;
  key.minute = minute_of(e.request_timestamp_ms);
  key.api_id = clean_text(e.api_id, kMaxKeyField);
  key.api_name = clean_text(e.api_name, kMaxKeyField);
  key.api_version = clean_text(e.api_version, kMaxKeyField);
  key.api_method = clean_text(e.api_method, kMaxMethodField);
  key.resource_template = clean_text(e.api_resource_template, kMaxKeyField);
  key.application_id = clean_text(e.application_id, kMaxKeyField);
  key.application_name = clean_text(e.application_name, kMaxKeyField);
  key.application_owner = clean_text(e.application_owner, kMaxKeyField);
  key.status_class = status_class(e.proxy_response_code);
  key.node_id = clean_text(node_id, kMaxKeyField);
  return key;
}

RollupCounters rollup_counters(const Event& e) {
  RollupCounters c;
  c.requests = 1;
  c.errors = (e.proxy_response_code >= 400 || e.error_code != 0) ? 1 : 0;
  c.throttled = is_throttled_code(e.error_code) ? 1 : 0;
  const std::int64_t latency = std::max<std::int64_t>(0, e.response_latency_ms);
  c.latency_sum_ms = latency;
  c.request_bytes = std::max<std::int64_t>(0, e.request_bytes);
  c.response_bytes = std::max<std::int64_t>(0, e.response_bytes);
  c.histogram[latency_bucket(latency)] = 1;
  return c;
}

void add_event(RollupMap& rollups, const Event& event) {
  rollups[rollup_key(event)].add(rollup_counters(event));
}

bool RollupAccumulator::same_key_as_previous(const Event& e, std::int64_t minute,
                                             std::string_view status) const {
  return previous_counters_ != nullptr && minute == previous_minute_ &&
         status == previous_status_ && e.api_id == previous_.api_id &&
         e.api_name == previous_.api_name && e.api_version == previous_.api_version &&
         e.api_method == previous_.api_method &&
         e.api_resource_template == previous_.api_resource_template &&
         e.application_id == previous_.application_id &&
         e.application_name == previous_.application_name &&
         e.application_owner == previous_.application_owner;
}

void RollupAccumulator::add(const Event& e) {
  const std::int64_t minute = minute_of(e.request_timestamp_ms);
  std::string status = status_class(e.proxy_response_code);
  if (!same_key_as_previous(e, minute, status)) {
    previous_counters_ = &rollups_[rollup_key(e, node_id_)];  // std::map: the address stays valid
    previous_minute_ = minute;
    previous_status_ = std::move(status);
    previous_.api_id = e.api_id;
    previous_.api_name = e.api_name;
    previous_.api_version = e.api_version;
    previous_.api_method = e.api_method;
    previous_.api_resource_template = e.api_resource_template;
    previous_.application_id = e.application_id;
    previous_.application_name = e.application_name;
    previous_.application_owner = e.application_owner;
  }
  previous_counters_->add(rollup_counters(e));
}

void merge(RollupMap& into, const RollupMap& from) {
  for (const auto& [key, counters] : from) into[key].add(counters);
}

std::optional<double> latency_quantile(const std::array<std::int64_t, kLatencyBuckets>& histogram,
                                       double q) {
  std::int64_t total = 0;
  for (std::int64_t n : histogram) total += n;
  if (total <= 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(total);
  std::int64_t below = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    const std::int64_t n = histogram[i];
    if (n > 0 && static_cast<double>(below + n) >= rank) {
      if (i == kLatencyBuckets - 1) return static_cast<double>(kLatencyBoundsMs.back());
      const double lower = i == 0 ? 0.0 : static_cast<double>(kLatencyBoundsMs[i - 1]);
      const double upper = static_cast<double>(kLatencyBoundsMs[i]);
      const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(n);
      return lower + (upper - lower) * std::clamp(fraction, 0.0, 1.0);
    }
    below += n;
  }
  return static_cast<double>(kLatencyBoundsMs.back());
}

std::string rollup_line(const RollupKey& key, const RollupCounters& c) {
  json::array histogram;
  for (std::int64_t n : c.histogram) histogram.push_back(n);
  json::object o{{"minute", key.minute},
                 {"apiId", key.api_id},
                 {"apiName", key.api_name},
                 {"apiVersion", key.api_version},
                 {"apiMethod", key.api_method},
                 {"apiResourceTemplate", key.resource_template},
                 {"applicationId", key.application_id},
                 {"applicationName", key.application_name},
                 {"applicationOwner", key.application_owner},
                 {"statusClass", key.status_class},
                 {"nodeId", key.node_id},
                 {"requests", c.requests},
                 {"errors", c.errors},
                 {"throttled", c.throttled},
                 {"latencySumMs", c.latency_sum_ms},
                 {"requestBytes", c.request_bytes},
                 {"responseBytes", c.response_bytes},
                 {"histogram", std::move(histogram)}};
  return json::serialize(o);
}

namespace {

std::string key_field(const json::object& o, std::string_view field, std::size_t max_bytes) {
  auto present = json_body::optional_string(o, field, max_bytes);  // may be empty
  if (!present) throw ApiError::bad_request("'" + std::string(field) + "' is required");
  std::string value = std::move(*present);
  // Boost.JSON has checked the UTF-8; a NUL (\u0000) is what PostgreSQL would still refuse.
  if (clean_text(value, max_bytes) != value)
    throw ApiError::bad_request("'" + std::string(field) + "' must not contain NUL");
  return value;
}

std::int64_t count_field(const json::object& o, std::string_view field) {
  auto n = json_body::optional_int(o, field, 0, std::numeric_limits<std::int64_t>::max() / 4);
  if (!n) throw ApiError::bad_request("'" + std::string(field) + "' is required");
  return *n;
}

}  // namespace

std::pair<RollupKey, RollupCounters> read_rollup(const json::object& o) {
  RollupKey key;
  RollupCounters c;
  key.minute = count_field(o, "minute");
  if (key.minute % 60 != 0)
    throw ApiError::bad_request("'minute' must be the start of a minute in unix seconds");
  key.api_id = key_field(o, "apiId", kMaxKeyField);
  key.api_name = key_field(o, "apiName", kMaxKeyField);
  key.api_version = key_field(o, "apiVersion", kMaxKeyField);
  key.api_method = key_field(o, "apiMethod", kMaxMethodField);
  key.resource_template = key_field(o, "apiResourceTemplate", kMaxKeyField);
  key.application_id = key_field(o, "applicationId", kMaxKeyField);
  key.application_name = key_field(o, "applicationName", kMaxKeyField);
  key.application_owner = key_field(o, "applicationOwner", kMaxKeyField);
  key.status_class = json_body::one_of("statusClass", json_body::required_string(o, "statusClass"),
                                       {"1xx", "2xx", "3xx", "4xx", "5xx"});
  // Written before node ids existed: a spill file of the previous version has none.
  if (o.contains("nodeId")) key.node_id = key_field(o, "nodeId", kMaxKeyField);
  c.requests = count_field(o, "requests");
  c.errors = count_field(o, "errors");
  c.throttled = count_field(o, "throttled");
  c.latency_sum_ms = count_field(o, "latencySumMs");
  c.request_bytes = count_field(o, "requestBytes");
  c.response_bytes = count_field(o, "responseBytes");
  if (c.errors > c.requests || c.throttled > c.requests)
    throw ApiError::bad_request("'errors' and 'throttled' must not exceed 'requests'");
  const json::array* histogram = json_body::optional_array(o, "histogram");
  if (histogram == nullptr || histogram->size() != kLatencyBuckets)
    throw ApiError::bad_request("'histogram' must be an array of " +
                                std::to_string(kLatencyBuckets) + " counts");
  std::int64_t in_histogram = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    const json::value& n = (*histogram)[i];
    if (!n.is_int64() || n.as_int64() < 0 || n.as_int64() > c.requests)
      throw ApiError::bad_request("'histogram' must hold counts from 0 to 'requests'");
    c.histogram[i] = n.as_int64();
    in_histogram += c.histogram[i];
  }
  if (in_histogram != c.requests)
    throw ApiError::bad_request("the 'histogram' counts must add up to 'requests'");
  return {std::move(key), c};
}

std::optional<std::pair<RollupKey, RollupCounters>> parse_rollup_line(std::string_view line) {
  try {
    json::value v = json::parse(line);
    if (!v.is_object()) return std::nullopt;
    return read_rollup(v.as_object());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace portico::analytics
