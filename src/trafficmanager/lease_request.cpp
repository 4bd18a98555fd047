#include "trafficmanager/lease_request.h"

#include <boost/json/serialize.hpp>

#include "common/api_error.h"
#include "common/json_body.h"

namespace portico::trafficmanager {
namespace {

namespace json = boost::json;

// Window ends stay well inside 64 bits.
constexpr std::int64_t kMaxWindowEndMs = std::int64_t{1} << 62;

std::int64_t required_int(const json::object& o, std::string_view field, std::int64_t min,
                          std::int64_t max, const std::string& where) {
  auto value = json_body::optional_int(o, field, min, max);
  if (!value) throw ApiError::bad_request(where + "'" + std::string(field) + "' is required");
  return *value;
}

bool is_counter_key(std::string_view key) {
  if (key.size() != 16) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

CounterAsk parse_counter(const json::value& v, std::size_t index) {
  const std::string where = "counters[" + std::to_string(index) + "]: ";
  if (!v.is_object()) throw ApiError::bad_request(where + "must be an object");
  const json::object& o = v.as_object();
  CounterAsk c;
  const json::value* key = o.if_contains("key");
  if (!key || !key->is_string() || !is_counter_key(key->as_string()))
    throw ApiError::bad_request(where + "'key' must be 16 lowercase hexadecimal digits");
  c.key = std::string(key->as_string());
  c.window_ms = required_int(o, "window_ms", kMinWindowMs, kMaxAmount, where);
  c.window = required_int(o, "window", 0, kMaxWindowEndMs / c.window_ms - 1, where);
  c.limit = required_int(o, "limit", 1, kMaxAmount - 1, where);
  c.overdraft = json_body::optional_int(o, "overdraft", 0, kMaxAmount - 1).value_or(0);
  c.want = json_body::optional_int(o, "want", 0, kMaxAmount - 1).value_or(0);
  c.give_back = json_body::optional_int(o, "return", 0, kMaxAmount - 1).value_or(0);
  return c;
}

}  // namespace

std::string CounterAsk::id() const {
  return key + ":" + std::to_string(window_ms) + ":" + std::to_string(window);
}

LeaseRequest parse_lease_request(std::string_view body) {
  json::object o = json_body::parse_object(body);
  LeaseRequest request;
  request.gateway = json_body::required_string(o, "gateway", kMaxGatewayLength);
  if (request.gateway.empty()) throw ApiError::bad_request("'gateway' must not be empty");
  const json::array* counters = json_body::optional_array(o, "counters");
  if (!counters) throw ApiError::bad_request("'counters' is required (an array, maybe empty)");
  if (counters->size() > kMaxCountersPerCall)
    throw ApiError::bad_request("'counters' has more than " + std::to_string(kMaxCountersPerCall) +
                                " items");
  request.counters.reserve(counters->size());
  for (std::size_t i = 0; i < counters->size(); ++i)
    request.counters.push_back(parse_counter((*counters)[i], i));
  return request;
}

std::string lease_response_json(std::int64_t members, const LeaseRequest& request,
                                const std::vector<CounterGrant>& grants) {
  json::array counters;
  counters.reserve(grants.size());
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const CounterAsk& c = request.counters[i];
    counters.push_back(json::object{{"key", c.key},
                                    {"window_ms", c.window_ms},
                                    {"window", c.window},
                                    {"granted", grants[i].granted},
                                    {"reserved", grants[i].reserved},
                                    {"until", grants[i].until}});
  }
  return json::serialize(json::object{{"members", members}, {"counters", std::move(counters)}});
}

}  // namespace portico::trafficmanager
