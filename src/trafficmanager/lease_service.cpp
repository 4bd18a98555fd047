#include "trafficmanager/lease_service.h"

#include <hiredis/hiredis.h>

#include <boost/json/serialize.hpp>
#include <charconv>
#include <set>

#include "common/api_error.h"
#include "common/log.h"
#include "events/event_types.h"

namespace portico::trafficmanager {
namespace {

namespace json = boost::json;

// A window that ended this long ago is over for everyone: clocks differ by less.
constexpr std::int64_t kEndedGraceMs = 1000;

bool parse_int(std::string_view text, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// "<key>:<window_ms>:<window>" of the throttled set, back into its parts.
std::optional<json::object> throttled_entry(std::string_view member, std::string_view score) {
  auto first = member.find(':');
  auto second = member.find(':', first == std::string_view::npos ? first : first + 1);
  std::int64_t window_ms = 0, window = 0, until = 0;
  if (first == std::string_view::npos || second == std::string_view::npos ||
      !parse_int(member.substr(first + 1, second - first - 1), window_ms) ||
      !parse_int(member.substr(second + 1), window) || !parse_int(score, until))
    return std::nullopt;
  return json::object{{"key", member.substr(0, first)},
                      {"window_ms", window_ms},
                      {"window", window},
                      {"until", until}};
}

std::string reply_text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

// ApiError 503 900809: the counters cannot be reached.
[[noreturn]] void throw_unavailable() {
  ApiError e(503, 900809, "Throttling unavailable",
             "The traffic manager cannot reach its counters (Redis); retry shortly");
  e.headers["Retry-After"] = "1";
  throw e;
}

}  // namespace

LeaseService::LeaseService(RedisPool& redis, RedisKeys keys, std::int64_t membership_ttl_ms,
                           LongWindows& long_windows, events::EventBus& bus)
    : redis_(redis),
      keys_(std::move(keys)),
      membership_ttl_ms_(membership_ttl_ms),
      long_windows_(long_windows),
      bus_(bus) {}

std::string LeaseService::lease(const LeaseRequest& request, std::int64_t now_ms) {
  std::vector<ScriptCounter> counters;
  counters.reserve(request.counters.size());
  for (const CounterAsk& ask : request.counters) {
    ScriptCounter c{.ask = &ask, .ended = ask.window_end_ms() + kEndedGraceMs < now_ms};
    if (ask.is_long() && !c.ended) c.seed = long_windows_.seed(ask);
    counters.push_back(c);
  }
  std::optional<ScriptResult> result;
  {
    auto redis = redis_.acquire();
    // A pooled connection Redis closed meanwhile (a restart) fails at once: one more try, on
    // a fresh connection. Should the failed try have run after all (its reply lost), its grants
    // count twice: fewer admitted in that window, never more.
    for (int attempt = 0; attempt < 2 && !result; ++attempt)
      result = script_.run(*redis, keys_, request.gateway, now_ms, membership_ttl_ms_, counters);
    if (!result) {
      spdlog::warn("traffic manager: Redis cannot be reached: {}", redis->last_error());
      throw_unavailable();
    }
  }
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const CounterAsk& ask = request.counters[i];
    const CounterGrant& grant = result->grants[i];
    if (ask.is_long() && !counters[i].ended) long_windows_.touched(ask, grant.reserved);
    if (grant.exhausted_now)
      bus_.publish(std::string(events::types::kThrottleExhausted),
                   json::serialize(json::object{{"key", ask.key},
                                                {"window_ms", ask.window_ms},
                                                {"window", ask.window},
                                                {"until", grant.until}}));
  }
  return lease_response_json(result->members, request, result->grants);
}

std::string LeaseService::throttled(std::int64_t now_ms) {
  const std::string now = std::to_string(now_ms);
  events::Reply members, spent;
  {
    auto redis = redis_.acquire();
    // A pooled connection Redis closed meanwhile fails once; the next command reconnects.
    if (!redis->command({"PING"}) && !redis->ensure_connected()) throw_unavailable();
    redis->command({"ZREMRANGEBYSCORE", keys_.members, "-inf", now});
    members = redis->command({"ZCARD", keys_.members});
    redis->command({"ZREMRANGEBYSCORE", keys_.throttled, "-inf", now});
    spent = redis->command({"ZRANGE", keys_.throttled, "0", "-1", "WITHSCORES"});
  }
  if (!members || members->type != REDIS_REPLY_INTEGER || !spent ||
      spent->type != REDIS_REPLY_ARRAY)
    throw_unavailable();
  json::array list;
  std::set<std::string> listed;
  for (std::size_t i = 0; i + 1 < spent->elements; i += 2) {
    std::string member = reply_text(spent->element[i]);
    if (auto entry = throttled_entry(member, reply_text(spent->element[i + 1]))) {
      list.push_back(std::move(*entry));
      listed.insert(std::move(member));
    }
  }
  try {
    for (const auto& w : long_windows_.spent(now_ms)) {
      CounterAsk ask{.key = w.counter_key, .window_ms = w.window_ms, .window = w.window_index};
      if (listed.insert(ask.id()).second)
        list.push_back(json::object{{"key", ask.key},
                                    {"window_ms", ask.window_ms},
                                    {"window", ask.window},
                                    {"until", ask.window_end_ms()}});
    }
  } catch (const std::exception& e) {
    spdlog::warn("traffic manager: cannot read the spent long windows: {}", e.what());
  }
  return json::serialize(json::object{{"members", std::max<std::int64_t>(1, members->integer)},
                                      {"throttled", std::move(list)}});
}

}  // namespace portico::trafficmanager
