#include "analytics/rollup.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace portico::analytics {

namespace json = boost::json;

namespace {

// Key columns are part of the primary key: PostgreSQL refuses index rows over ~2.7 KB.
constexpr std::size_t kMaxKeyField = 256;

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

std::int64_t int_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) throw std::invalid_argument("missing field");
  return v->to_number<std::int64_t>();
}

std::string string_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) throw std::invalid_argument("missing field");
  return std::string(v->get_string());
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

RollupKey rollup_key(const Event& e) {
  RollupKey key;
  key.minute = minute_of(e.request_timestamp_ms);
  key.api_id = clean_text(e.api_id, kMaxKeyField);
  key.api_name = clean_text(e.api_name, kMaxKeyField);
  key.api_version = clean_text(e.api_version, kMaxKeyField);
  key.api_method = clean_text(e.api_method, 16);
  key.resource_template = clean_text(e.api_resource_template, kMaxKeyField);
  key.application_id = clean_text(e.application_id, kMaxKeyField);
  key.application_name = clean_text(e.application_name, kMaxKeyField);
  key.application_owner = clean_text(e.application_owner, kMaxKeyField);
  key.status_class = status_class(e.proxy_response_code);
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
    previous_counters_ = &rollups_[rollup_key(e)];  // std::map: the address stays valid
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
                 {"requests", c.requests},
                 {"errors", c.errors},
                 {"throttled", c.throttled},
                 {"latencySumMs", c.latency_sum_ms},
                 {"requestBytes", c.request_bytes},
                 {"responseBytes", c.response_bytes},
                 {"histogram", std::move(histogram)}};
  return json::serialize(o);
}

std::optional<std::pair<RollupKey, RollupCounters>> parse_rollup_line(std::string_view line) {
  try {
    json::value v = json::parse(line);
    const json::object& o = v.as_object();
    RollupKey key;
    RollupCounters c;
    key.minute = int_field(o, "minute");
    key.api_id = string_field(o, "apiId");
    key.api_name = string_field(o, "apiName");
    key.api_version = string_field(o, "apiVersion");
    key.api_method = string_field(o, "apiMethod");
    key.resource_template = string_field(o, "apiResourceTemplate");
    key.application_id = string_field(o, "applicationId");
    key.application_name = string_field(o, "applicationName");
    key.application_owner = string_field(o, "applicationOwner");
    key.status_class = string_field(o, "statusClass");
    c.requests = int_field(o, "requests");
    c.errors = int_field(o, "errors");
    c.throttled = int_field(o, "throttled");
    c.latency_sum_ms = int_field(o, "latencySumMs");
    c.request_bytes = int_field(o, "requestBytes");
    c.response_bytes = int_field(o, "responseBytes");
    const json::array& histogram = o.at("histogram").as_array();
    if (histogram.size() != kLatencyBuckets) return std::nullopt;
    for (std::size_t i = 0; i < kLatencyBuckets; ++i)
      c.histogram[i] = histogram[i].to_number<std::int64_t>();
    return std::make_pair(std::move(key), c);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace portico::analytics
