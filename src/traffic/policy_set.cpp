// Compiling the control plane's policy JSON (Admin v4 shapes, as the internal data API
// serves them) into a PolicySet. Everything here runs at configuration time; what it leaves
// behind is plain data the request path only reads.
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

#include "traffic/counter_table.h"
#include "traffic/pattern.h"
#include "traffic/traffic.h"

namespace portico::traffic {
namespace {

namespace json = boost::json;

constexpr std::int64_t kUnlimitedRequests = 2147483647;  // the reference's "Unlimited" tiers
// Groups kept per advanced policy: bounds the counters one request can take (the Admin API
// allows 20).
constexpr std::size_t kMaxGroups = 32;
constexpr std::size_t kMaxConditions = 32;

// Why a policy or one of its parts was skipped; becomes one warning line.
struct Malformed {
  std::string reason;
};

const json::value* member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

std::string_view required_string(const json::object& o, std::string_view key) {
  const json::value* v = member(o, key);
  if (v == nullptr || !v->is_string() || v->get_string().empty())
    throw Malformed{"'" + std::string(key) + "' is not a non-empty string"};
  return v->get_string();
}

std::optional<std::string_view> optional_string(const json::object& o, std::string_view key) {
  const json::value* v = member(o, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) throw Malformed{"'" + std::string(key) + "' is not a string"};
  return std::string_view(v->get_string());
}

// The first of `keys` present (the Admin API spells IP fields two ways: "startingIP" in
// conditions, "startingIp" in blocking conditions).
std::string_view required_string_of(const json::object& o,
                                    std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (member(o, key) != nullptr) return required_string(o, key);
  }
  throw Malformed{"'" + std::string(*keys.begin()) + "' is required"};
}

std::optional<std::int64_t> optional_int(const json::object& o, std::string_view key) {
  const json::value* v = member(o, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::numeric_limits<std::int64_t>::max();
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double()) {
    double d = v->get_double();
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
  }
  throw Malformed{"'" + std::string(key) + "' is not an integer"};
}

std::int64_t required_int(const json::object& o, std::string_view key, std::int64_t min) {
  auto v = optional_int(o, key);
  if (!v) throw Malformed{"'" + std::string(key) + "' is required"};
  if (*v < min)
    throw Malformed{"'" + std::string(key) + "' must be at least " + std::to_string(min)};
  return *v;
}

bool optional_bool(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = member(o, key);
  if (v == nullptr) return fallback;
  if (!v->is_bool()) throw Malformed{"'" + std::string(key) + "' is not a boolean"};
  return v->get_bool();
}

const json::object& required_object(const json::object& o, std::string_view key) {
  const json::value* v = member(o, key);
  if (v == nullptr || !v->is_object())
    throw Malformed{"'" + std::string(key) + "' is not an object"};
  return v->get_object();
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Siddhi's time constants (the reference's throttle apps are Siddhi timeBatch windows):
// a month is 2,630,000,000 ms and a year 31,556,900,000 ms, not calendar months and years.
std::int64_t unit_ms(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"sec", 1'000},           {"second", 1'000},         {"seconds", 1'000},
      {"min", 60'000},          {"minute", 60'000},        {"minutes", 60'000},
      {"hour", 3'600'000},      {"hours", 3'600'000},      {"day", 86'400'000},
      {"days", 86'400'000},     {"week", 604'800'000},     {"weeks", 604'800'000},
      {"month", 2'630'000'000}, {"months", 2'630'000'000}, {"year", 31'556'900'000},
      {"years", 31'556'900'000}};
  for (const auto& [name, ms] : kUnits) {
    if (equals_ignore_case(unit, name)) return ms;
  }
  throw Malformed{"'timeUnit' '" + std::string(unit) +
                  "' is not one of sec, min, hour, day, week, month, year"};
}

std::int64_t window_ms(const json::object& body) {
  std::int64_t unit = unit_ms(required_string(body, "timeUnit"));
  std::int64_t count = required_int(body, "unitTime", 1);
  if (count > std::numeric_limits<std::int64_t>::max() / unit / 2)
    throw Malformed{"'unitTime' is too large"};
  return unit * count;
}

// Saturating: a product too large to count is unlimited anyway.
std::int64_t times(std::int64_t a, std::int64_t b) {
  if (a > std::numeric_limits<std::int64_t>::max() / b)
    return std::numeric_limits<std::int64_t>::max();
  return a * b;
}

Limit parse_limit(const json::object& limit) {
  std::string_view type = required_string(limit, "type");
  Limit out;
  if (type == "REQUESTCOUNTLIMIT" || type == "EVENTCOUNTLIMIT") {
    // Event-count limits (the reference's streaming APIs) count requests here: one HTTP
    // request is one event.
    const bool events = type == "EVENTCOUNTLIMIT";
    const char* field = events ? "eventCount" : "requestCount";
    const json::object& body = required_object(limit, field);
    out.kind = LimitKind::kRequests;
    out.window_ms = window_ms(body);
    out.amount = required_int(body, field, 1);
    out.unlimited = out.amount >= kUnlimitedRequests;
  } else if (type == "BANDWIDTHLIMIT") {
    const json::object& body = required_object(limit, "bandwidth");
    out.kind = LimitKind::kBandwidth;
    out.window_ms = window_ms(body);
    std::int64_t amount = required_int(body, "dataAmount", 1);
    std::string_view unit = required_string(body, "dataUnit");
    std::int64_t multiplier = 0;
    if (equals_ignore_case(unit, "KB")) multiplier = 1024;
    if (equals_ignore_case(unit, "MB")) multiplier = 1024 * 1024;
    if (equals_ignore_case(unit, "GB")) multiplier = 1024 * 1024 * 1024;
    if (multiplier == 0)
      throw Malformed{"'dataUnit' '" + std::string(unit) + "' is not one of KB, MB, GB"};
    out.amount = times(amount, multiplier);
    out.unlimited = false;
  } else {
    throw Malformed{"limit type '" + std::string(type) +
                    "' is not REQUESTCOUNTLIMIT, BANDWIDTHLIMIT or EVENTCOUNTLIMIT"};
  }
  // Beyond what a counter holds: it could never refuse, so it is not counted at all.
  if (out.amount > CounterTable::kMaxCount) out.unlimited = true;
  return out;
}

template <class F>
auto within(std::string_view where, F&& f) {
  try {
    return f();
  } catch (Malformed& e) {
    e.reason = std::string(where) + ": " + e.reason;
    throw;
  }
}

IpAddress required_ip(const json::object& o, std::initializer_list<std::string_view> keys) {
  std::string_view text = required_string_of(o, keys);
  auto ip = parse_ip(text);
  if (!ip)
    throw Malformed{"'" + std::string(*keys.begin()) + "' '" + std::string(text) +
                    "' is not an IPv4 or IPv6 address"};
  return *ip;
}

bool is_v4(const IpAddress& ip) {
  return ip.high == 0 && (ip.low >> 32) == 0xffff;
}

IpRange required_range(const json::object& o, std::initializer_list<std::string_view> first,
                       std::initializer_list<std::string_view> last) {
  IpRange range{required_ip(o, first), required_ip(o, last)};
  if (is_v4(range.first) != is_v4(range.last))
    throw Malformed{"the range's ends are not both IPv4 or both IPv6"};
  if (range.last < range.first) throw Malformed{"the range's start is after its end"};
  return range;
}

Condition parse_condition(const json::object& c) {
  Condition out;
  std::string_view type = required_string(c, "type");
  out.invert = optional_bool(c, "invertCondition", false);
  auto named_value = [&](const char* field, const char* name_key, const char* value_key,
                         Pattern::Mode mode) {
    const json::object& body = required_object(c, field);
    within(field, [&] {
      out.name = required_string(body, name_key);
      out.value = required_string(body, value_key);
      std::string error;
      out.pattern = Pattern::compile(out.value, mode, &error);
      if (!out.pattern)
        throw Malformed{"'" + std::string(value_key) + "' is not a valid regular expression (" +
                        error + ")"};
    });
  };
  if (type == "HEADERCONDITION") {
    out.type = Condition::Type::kHeader;
    named_value("headerCondition", "headerName", "headerValue", Pattern::Mode::kFind);
  } else if (type == "QUERYPARAMETERCONDITION") {
    out.type = Condition::Type::kQueryParameter;
    named_value("queryParameterCondition", "parameterName", "parameterValue",
                Pattern::Mode::kWhole);
  } else if (type == "JWTCLAIMSCONDITION") {
    out.type = Condition::Type::kJwtClaim;
    named_value("jwtClaimsCondition", "claimUrl", "attribute", Pattern::Mode::kWhole);
  } else if (type == "IPCONDITION" || type == "IPRANGECONDITION") {
    const char* field = member(c, "ipCondition") != nullptr || type == "IPCONDITION"
                            ? "ipCondition"
                            : "ipRangeCondition";
    const json::object& body = required_object(c, field);
    within(field, [&] {
      std::string_view ip_type =
          optional_string(body, "ipConditionType")
              .value_or(type == "IPRANGECONDITION" ? "IPRANGE" : "IPSPECIFIC");
      if (ip_type == "IPSPECIFIC") {
        out.type = Condition::Type::kIpSpecific;
        IpAddress ip = required_ip(body, {"specificIP", "specificIp"});
        out.ip = IpRange{ip, ip};
      } else if (ip_type == "IPRANGE") {
        out.type = Condition::Type::kIpRange;
        out.ip = required_range(body, {"startingIP", "startingIp"}, {"endingIP", "endingIp"});
      } else {
        throw Malformed{"'ipConditionType' '" + std::string(ip_type) +
                        "' is not IPSPECIFIC or IPRANGE"};
      }
    });
  } else {
    throw Malformed{"condition type '" + std::string(type) + "' is not known"};
  }
  return out;
}

ConditionGroup parse_group(const json::object& g) {
  ConditionGroup out;
  const json::value* conditions = member(g, "conditions");
  if (conditions == nullptr || !conditions->is_array() || conditions->get_array().empty())
    throw Malformed{"'conditions' must hold at least one condition"};
  if (conditions->get_array().size() > kMaxConditions)
    throw Malformed{"more than " + std::to_string(kMaxConditions) + " conditions"};
  std::size_t j = 0;
  for (const json::value& c : conditions->get_array()) {
    out.conditions.push_back(within("conditions[" + std::to_string(j++) + "]", [&] {
      if (!c.is_object()) throw Malformed{"not an object"};
      return parse_condition(c.get_object());
    }));
  }
  out.limit = within("limit", [&] { return parse_limit(required_object(g, "limit")); });
  return out;
}

struct Warnings {
  std::vector<std::string>* out;
  void add(std::string line) const {
    if (out != nullptr) out->push_back(std::move(line));
  }
};

// Calls `parse(object, name)` for each policy of a level; a throw skips that policy.
template <class Policy, class Parse>
std::vector<Policy> parse_level(const json::array& items, std::string_view level,
                                const Warnings& warnings, Parse parse) {
  std::vector<Policy> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string where = std::string(level) + " policy #" + std::to_string(i);
    try {
      if (!items[i].is_object()) throw Malformed{"not an object"};
      const json::object& o = items[i].get_object();
      std::string name(required_string(o, "policyName"));
      where += " '" + name + "'";
      Policy policy = parse(o, warnings, where);
      policy.name = std::move(name);
      out.push_back(std::move(policy));
    } catch (const Malformed& e) {
      warnings.add(where + " skipped: " + e.reason);
    } catch (const std::exception& e) {
      warnings.add(where + " skipped: " + e.what());
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Policy& a, const Policy& b) { return a.name < b.name; });
  // Names are unique per level in the control plane; should two arrive, the first is kept.
  auto duplicate = std::adjacent_find(
      out.begin(), out.end(), [](const Policy& a, const Policy& b) { return a.name == b.name; });
  while (duplicate != out.end()) {
    warnings.add(std::string(level) + " policy '" + duplicate->name +
                 "' appears more than once: the first is used");
    out.erase(duplicate + 1);
    duplicate = std::adjacent_find(
        out.begin(), out.end(), [](const Policy& a, const Policy& b) { return a.name == b.name; });
  }
  return out;
}

SubscriptionPolicy parse_subscription(const json::object& o, const Warnings&, const std::string&) {
  SubscriptionPolicy out;
  out.limit =
      within("defaultLimit", [&] { return parse_limit(required_object(o, "defaultLimit")); });
  out.stop_on_quota_reach = optional_bool(o, "stopOnQuotaReach", false);
  std::int64_t burst = optional_int(o, "rateLimitCount").value_or(0);
  if (burst < 0) throw Malformed{"'rateLimitCount' is negative"};
  if (burst > 0) {
    auto unit = optional_string(o, "rateLimitTimeUnit");
    if (!unit) throw Malformed{"'rateLimitTimeUnit' is required with 'rateLimitCount'"};
    std::int64_t ms = 0;
    if (equals_ignore_case(*unit, "sec")) ms = 1'000;
    if (equals_ignore_case(*unit, "min")) ms = 60'000;
    if (ms == 0)
      throw Malformed{"'rateLimitTimeUnit' '" + std::string(*unit) + "' is not sec or min"};
    out.burst = Limit{LimitKind::kRequests, burst, ms, burst >= kUnlimitedRequests};
  }
  return out;
}

ApplicationPolicy parse_application(const json::object& o, const Warnings&, const std::string&) {
  ApplicationPolicy out;
  out.limit =
      within("defaultLimit", [&] { return parse_limit(required_object(o, "defaultLimit")); });
  return out;
}

AdvancedPolicy parse_advanced(const json::object& o, const Warnings& warnings,
                              const std::string& where) {
  AdvancedPolicy out;
  out.default_limit =
      within("defaultLimit", [&] { return parse_limit(required_object(o, "defaultLimit")); });
  const json::value* groups = member(o, "conditionalGroups");
  if (groups == nullptr) return out;
  if (!groups->is_array()) throw Malformed{"'conditionalGroups' is not an array"};
  std::size_t i = 0;
  for (const json::value& g : groups->get_array()) {
    std::string group_where = "conditionalGroups[" + std::to_string(i++) + "]";
    // A group that cannot be compiled is left out, not the policy: its requests fall back
    // to the default limit instead of the whole API losing its limits.
    try {
      if (out.groups.size() == kMaxGroups)
        throw Malformed{"more than " + std::to_string(kMaxGroups) + " groups"};
      if (!g.is_object()) throw Malformed{"not an object"};
      out.groups.push_back(parse_group(g.get_object()));
    } catch (const Malformed& e) {
      warnings.add(where + ": " + group_where + " skipped: " + e.reason);
    }
  }
  return out;
}

// Blocking conditions keep their value as a JSON object, or (older producers) as text that
// holds one.
json::object value_object(const json::value& value) {
  if (value.is_object()) return value.get_object();
  if (value.is_string()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(value.get_string(), ec);
    if (!ec && parsed.is_object()) return parsed.get_object();
  }
  throw Malformed{"'conditionValue' is not an object"};
}

std::vector<IpRange> merge(std::vector<IpRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const IpRange& a, const IpRange& b) { return a.first < b.first; });
  std::vector<IpRange> out;
  for (const IpRange& r : ranges) {
    if (!out.empty()) {
      IpRange& last = out.back();
      // Overlapping or adjacent (last + 1 == r.first) ranges become one.
      IpAddress next = last.last;
      bool at_max = next.high == ~std::uint64_t{0} && next.low == ~std::uint64_t{0};
      if (!at_max) {
        if (++next.low == 0) ++next.high;
      }
      if (at_max || r.first <= next) {
        if (last.last < r.last) last.last = r.last;
        continue;
      }
    }
    out.push_back(r);
  }
  return out;
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

template <class Policy>
const Policy* find_by_name(const std::vector<Policy>& policies, std::string_view name) {
  auto it = std::lower_bound(policies.begin(), policies.end(), name,
                             [](const Policy& p, std::string_view n) { return p.name < n; });
  return it != policies.end() && it->name == name ? &*it : nullptr;
}

}  // namespace

std::shared_ptr<const PolicySet> PolicySet::build(const json::array& subscription_policies,
                                                  const json::array& application_policies,
                                                  const json::array& advanced_policies,
                                                  const json::array& deny_policies,
                                                  std::vector<std::string>* warnings_out) {
  Warnings warnings{warnings_out};
  auto set = std::make_shared<PolicySet>();
  set->subscriptions_ = parse_level<SubscriptionPolicy>(subscription_policies, "subscription",
                                                        warnings, parse_subscription);
  set->applications_ = parse_level<ApplicationPolicy>(application_policies, "application", warnings,
                                                      parse_application);
  set->advanced_ =
      parse_level<AdvancedPolicy>(advanced_policies, "advanced", warnings, parse_advanced);

  DenyRules& deny = set->deny_;
  std::vector<IpRange> blocked;
  for (std::size_t i = 0; i < deny_policies.size(); ++i) {
    std::string where = "deny policy #" + std::to_string(i);
    try {
      if (!deny_policies[i].is_object()) throw Malformed{"not an object"};
      const json::object& o = deny_policies[i].get_object();
      if (auto id = member(o, "conditionId"); id != nullptr && id->is_string())
        where += " '" + std::string(id->get_string()) + "'";
      if (!optional_bool(o, "conditionStatus", true)) continue;  // disabled
      std::string_view type = required_string(o, "conditionType");
      const json::value* value = member(o, "conditionValue");
      if (value == nullptr) throw Malformed{"'conditionValue' is required"};
      auto text = [&]() -> std::string {
        if (!value->is_string() || value->get_string().empty())
          throw Malformed{"'conditionValue' is not a non-empty string"};
        return std::string(value->get_string());
      };
      if (type == "API") {
        deny.apis.push_back(text());
      } else if (type == "APPLICATION") {
        deny.applications.push_back(text());
      } else if (type == "USER") {
        deny.users.push_back(text());
      } else if (type == "IP" || type == "IPRANGE") {
        IpRange range;
        bool invert = false;
        if (type == "IP" && value->is_string() && parse_ip(value->get_string())) {
          IpAddress ip = *parse_ip(value->get_string());
          range = IpRange{ip, ip};
        } else {
          json::object v = value_object(*value);
          invert = optional_bool(v, "invert", false);
          if (type == "IP") {
            IpAddress ip = required_ip(v, {"fixedIp", "fixedIP"});
            range = IpRange{ip, ip};
          } else {
            range = required_range(v, {"startingIp", "startingIP"}, {"endingIp", "endingIP"});
          }
        }
        (invert ? deny.allowed_only_ips : blocked).push_back(range);
      } else {
        throw Malformed{"condition type '" + std::string(type) +
                        "' is not API, APPLICATION, IP, IPRANGE or USER"};
      }
    } catch (const Malformed& e) {
      warnings.add(where + " skipped: " + e.reason);
    } catch (const std::exception& e) {
      warnings.add(where + " skipped: " + e.what());
    }
  }
  sort_unique(deny.apis);
  sort_unique(deny.applications);
  sort_unique(deny.users);
  deny.blocked_ips = merge(std::move(blocked));
  return set;
}

const SubscriptionPolicy* PolicySet::subscription(std::string_view name) const {
  return find_by_name(subscriptions_, name);
}

const ApplicationPolicy* PolicySet::application(std::string_view name) const {
  return find_by_name(applications_, name);
}

const AdvancedPolicy* PolicySet::advanced(std::string_view name) const {
  return find_by_name(advanced_, name);
}

}  // namespace portico::traffic
