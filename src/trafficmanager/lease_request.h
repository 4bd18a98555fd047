#pragma once
// The body of POST /internal/traffic/v1/leases, read and checked as a whole before anything
// is applied, and the answer's JSON (docs/throttling.md, "Traffic manager").
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::trafficmanager {

inline constexpr std::size_t kMaxCountersPerCall = 1000;
inline constexpr std::size_t kMaxGatewayLength = 128;
// Amounts stay far below 2^53, so the script's Lua numbers (doubles) hold them exactly.
inline constexpr std::int64_t kMaxAmount = std::int64_t{1} << 40;
inline constexpr std::int64_t kMinWindowMs = 1000;
// Windows of an hour or longer are kept in the database too.
inline constexpr std::int64_t kLongWindowMs = 3'600'000;

// One counter-window a gateway asks about.
struct CounterAsk {
  std::string key;  // 16 lowercase hex digits
  std::int64_t window_ms = 0;
  std::int64_t window = 0;
  std::int64_t limit = 0;
  std::int64_t overdraft = 0;  // admitted beyond its grants: added unconditionally
  std::int64_t want = 0;       // tokens wanted now
  std::int64_t give_back = 0;  // "return": granted tokens it did not spend

  std::int64_t window_end_ms() const { return (window + 1) * window_ms; }
  bool is_long() const { return window_ms >= kLongWindowMs; }
  // "<key>:<window_ms>:<window>": the counter-window's name in Redis and in the throttled set.
  std::string id() const;
};

struct LeaseRequest {
  std::string gateway;
  std::vector<CounterAsk> counters;
};

// What the script decided for one counter.
struct CounterGrant {
  std::int64_t granted = 0;
  std::int64_t reserved = 0;
  std::int64_t until = 0;      // the window's end when reserved >= limit, else 0
  bool exhausted_now = false;  // this call took it to its limit
};

// Throws ApiError 400 naming the first field that is wrong.
LeaseRequest parse_lease_request(std::string_view body);

std::string lease_response_json(std::int64_t members, const LeaseRequest& request,
                                const std::vector<CounterGrant>& grants);

}  // namespace portico::trafficmanager
