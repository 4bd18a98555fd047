#include "admin/validation.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <regex>

#include "common/api_error.h"
#include "common/json_body.h"

namespace portico::admin {
namespace {

namespace json = boost::json;
using json_body::one_of;
using json_body::optional_bool;
using json_body::optional_int;
using json_body::optional_string;
using json_body::required_string;

constexpr std::size_t kMaxDescription = 1024;
constexpr std::size_t kMaxConditionalGroups = 20;
constexpr std::size_t kMaxConditions = 20;
constexpr std::size_t kMaxCustomAttributes = 50;
constexpr std::size_t kMaxVhosts = 20;
constexpr std::int64_t kMaxCount = INT64_MAX / 2;  // room for counters to add without overflow

// Runs `f`, prefixing a 400's description with where in the body it happened, so that
// "'timeUnit' is required" becomes "defaultLimit.requestCount: 'timeUnit' is required".
template <class F>
auto within(const std::string& path, F&& f) {
  try {
    return f();
  } catch (ApiError& e) {
    if (e.status == 400) e.description = path + ": " + e.description;
    throw;
  }
}

const json::object& required_object(const json::object& o, std::string_view field) {
  auto* v = json_body::optional_object(o, field);
  if (v == nullptr) {
    auto it = o.find(field);
    if (it != o.end() && !it->value().is_null())
      throw ApiError::bad_request("'" + std::string(field) + "' must be an object");
    throw ApiError::bad_request("'" + std::string(field) + "' is required");
  }
  return *v;
}

const json::array* array_field(const json::object& o, std::string_view field) {
  auto* a = json_body::optional_array(o, field);
  if (a == nullptr) {
    auto it = o.find(field);
    if (it != o.end() && !it->value().is_null())
      throw ApiError::bad_request("'" + std::string(field) + "' must be an array");
  }
  return a;
}

const json::object& as_object(const json::value& v, const std::string& what) {
  if (!v.is_object()) throw ApiError::bad_request(what + " must be an object");
  return v.as_object();
}

bool is_policy_name(const std::string& name) {
  return !name.empty() && name.size() <= 60 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '_' || c == '-' || c == '.';
         });
}

void copy_optional_string(const json::object& from, json::object& to, std::string_view field,
                          std::size_t max_length) {
  if (auto v = optional_string(from, field, max_length)) to[field] = *v;
}

json::object validate_limit(const json::object& limit) {
  std::string type =
      one_of("type", required_string(limit, "type", 32), {"REQUESTCOUNTLIMIT", "BANDWIDTHLIMIT"});
  const bool requests = type == "REQUESTCOUNTLIMIT";
  const char* field = requests ? "requestCount" : "bandwidth";
  const json::object& body = required_object(limit, field);
  json::object out = within(field, [&] {
    json::object o;
    o["timeUnit"] = one_of("timeUnit", required_string(body, "timeUnit", 16),
                           {"sec", "min", "hour", "day", "week", "month", "year"});
    auto unit_time = optional_int(body, "unitTime", 1, 1'000'000);
    if (!unit_time) throw ApiError::bad_request("'unitTime' is required");
    o["unitTime"] = *unit_time;
    if (requests) {
      auto count = optional_int(body, "requestCount", 1, kMaxCount);
      if (!count) throw ApiError::bad_request("'requestCount' is required");
      o["requestCount"] = *count;
    } else {
      auto amount = optional_int(body, "dataAmount", 1, kMaxCount);
      if (!amount) throw ApiError::bad_request("'dataAmount' is required");
      o["dataAmount"] = *amount;
      o["dataUnit"] = one_of("dataUnit", required_string(body, "dataUnit", 8), {"KB", "MB", "GB"});
    }
    return o;
  });
  return json::object{{"type", type}, {field, std::move(out)}};
}

json::object validate_ip_condition(const json::object& body) {
  std::string type = optional_string(body, "ipConditionType", 16).value_or("IPSPECIFIC");
  one_of("ipConditionType", type, {"IPSPECIFIC", "IPRANGE"});
  json::object out{{"ipConditionType", type}};
  auto read_ip = [&](std::string_view field) {
    std::string text = required_string(body, field, 64);
    auto ip = parse_ip(text);
    if (!ip)
      throw ApiError::bad_request("'" + std::string(field) + "' is not an IPv4 or IPv6 address");
    out[field] = text;
    return *ip;
  };
  if (type == "IPSPECIFIC") {
    read_ip("specificIP");
  } else {
    auto start = read_ip("startingIP");
    auto end = read_ip("endingIP");
    if (start.family != end.family)
      throw ApiError::bad_request("'startingIP' and 'endingIP' must both be IPv4 or both IPv6");
    if (end < start) throw ApiError::bad_request("'startingIP' must not be after 'endingIP'");
  }
  return out;
}

json::object validate_condition(const json::object& c) {
  std::string type =
      one_of("type", required_string(c, "type", 32),
             {"HEADERCONDITION", "QUERYPARAMETERCONDITION", "IPCONDITION", "JWTCLAIMSCONDITION"});
  json::object out{{"type", type},
                   {"invertCondition", optional_bool(c, "invertCondition").value_or(false)}};
  auto pair = [&](const char* field, const char* name, const char* value) {
    const json::object& body = required_object(c, field);
    within(field, [&] {
      out[field] = json::object{{name, required_string(body, name, 256)},
                                {value, required_string(body, value, 1024)}};
    });
  };
  if (type == "HEADERCONDITION") {
    pair("headerCondition", "headerName", "headerValue");
  } else if (type == "QUERYPARAMETERCONDITION") {
    pair("queryParameterCondition", "parameterName", "parameterValue");
  } else if (type == "JWTCLAIMSCONDITION") {
    pair("jwtClaimsCondition", "claimUrl", "attribute");
  } else {
    const json::object& body = required_object(c, "ipCondition");
    out["ipCondition"] = within("ipCondition", [&] { return validate_ip_condition(body); });
  }
  return out;
}

json::array validate_conditional_groups(const json::array& groups) {
  if (groups.size() > kMaxConditionalGroups)
    throw ApiError::bad_request("at most " + std::to_string(kMaxConditionalGroups) +
                                " conditional groups");
  json::array out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::string path = "conditionalGroups[" + std::to_string(i) + "]";
    out.push_back(within(path, [&] {
      const json::object& g = as_object(groups[i], "a conditional group");
      json::object group;
      copy_optional_string(g, group, "description", kMaxDescription);
      const json::array* conditions = array_field(g, "conditions");
      if (conditions == nullptr || conditions->empty())
        throw ApiError::bad_request("'conditions' must hold at least one condition");
      if (conditions->size() > kMaxConditions)
        throw ApiError::bad_request("at most " + std::to_string(kMaxConditions) + " conditions");
      json::array checked;
      for (std::size_t j = 0; j < conditions->size(); ++j) {
        checked.push_back(within("conditions[" + std::to_string(j) + "]", [&] {
          return validate_condition(as_object((*conditions)[j], "a condition"));
        }));
      }
      group["conditions"] = std::move(checked);
      const json::object& limit = required_object(g, "limit");
      group["limit"] = within("limit", [&] { return validate_limit(limit); });
      return group;
    }));
  }
  return out;
}

void validate_subscription_fields(const json::object& body, json::object& out) {
  auto burst = optional_int(body, "rateLimitCount", 0, INT32_MAX).value_or(0);
  out["rateLimitCount"] = burst;
  if (burst > 0) {
    out["rateLimitTimeUnit"] =
        one_of("rateLimitTimeUnit", required_string(body, "rateLimitTimeUnit", 8), {"sec", "min"});
  } else if (auto unit = optional_string(body, "rateLimitTimeUnit", 8); unit && !unit->empty()) {
    out["rateLimitTimeUnit"] = one_of("rateLimitTimeUnit", *unit, {"sec", "min"});
  }
  out["stopOnQuotaReach"] = optional_bool(body, "stopOnQuotaReach").value_or(false);
  out["billingPlan"] =
      one_of("billingPlan", optional_string(body, "billingPlan", 16).value_or("FREE"),
             {"FREE", "COMMERCIAL"});
  if (auto v = optional_int(body, "graphQLMaxComplexity", 0, INT32_MAX))
    out["graphQLMaxComplexity"] = *v;
  if (auto v = optional_int(body, "graphQLMaxDepth", 0, INT32_MAX)) out["graphQLMaxDepth"] = *v;
  if (const json::array* attributes = array_field(body, "customAttributes")) {
    if (attributes->size() > kMaxCustomAttributes)
      throw ApiError::bad_request("at most " + std::to_string(kMaxCustomAttributes) +
                                  " custom attributes");
    json::array checked;
    for (std::size_t i = 0; i < attributes->size(); ++i) {
      checked.push_back(within("customAttributes[" + std::to_string(i) + "]", [&] {
        const json::object& a = as_object((*attributes)[i], "a custom attribute");
        return json::object{{"name", required_string(a, "name", 256)},
                            {"value", optional_string(a, "value", 1024).value_or("")}};
      }));
    }
    out["customAttributes"] = std::move(checked);
  }
  if (auto* permissions = json_body::optional_object(body, "permissions")) {
    out["permissions"] = within("permissions", [&] {
      std::string type = one_of(
          "permissionType", required_string(*permissions, "permissionType", 8), {"ALLOW", "DENY"});
      auto roles = json_body::optional_string_array(*permissions, "roles", 100, 256);
      if (!roles || roles->empty()) throw ApiError::bad_request("'roles' is required");
      json::array role_array;
      for (auto& r : *roles) role_array.push_back(json::value(r));
      return json::object{{"permissionType", type}, {"roles", std::move(role_array)}};
    });
  }
}

bool matches(const std::string& text, const std::regex& pattern) {
  return std::regex_match(text, pattern);
}

}  // namespace

std::string_view level_name(PolicyLevel level) {
  switch (level) {
    case PolicyLevel::subscription:
      return "subscription";
    case PolicyLevel::application:
      return "application";
    case PolicyLevel::advanced:
      return "advanced";
  }
  return "";
}

std::optional<PolicyLevel> parse_level(std::string_view name) {
  if (name == "subscription") return PolicyLevel::subscription;
  if (name == "application") return PolicyLevel::application;
  if (name == "advanced") return PolicyLevel::advanced;
  return std::nullopt;
}

std::string_view policy_type(PolicyLevel level) {
  switch (level) {
    case PolicyLevel::subscription:
      return "SubscriptionThrottlePolicy";
    case PolicyLevel::application:
      return "ApplicationThrottlePolicy";
    case PolicyLevel::advanced:
      return "AdvancedThrottlePolicy";
  }
  return "";
}

json::object validate_policy(PolicyLevel level, const json::object& body) {
  json::object out;
  std::string name = required_string(body, "policyName", 60);
  if (!is_policy_name(name))
    throw ApiError::bad_request("'policyName' must be 1 to 60 letters, digits, '_', '-' or '.'");
  out["policyName"] = name;
  out["displayName"] = optional_string(body, "displayName", 512).value_or(name);
  out["description"] = optional_string(body, "description", kMaxDescription).value_or("");
  const json::object& limit = required_object(body, "defaultLimit");
  out["defaultLimit"] = within("defaultLimit", [&] { return validate_limit(limit); });
  if (level == PolicyLevel::subscription) validate_subscription_fields(body, out);
  if (level == PolicyLevel::advanced) {
    const json::array* groups = array_field(body, "conditionalGroups");
    out["conditionalGroups"] = groups ? validate_conditional_groups(*groups) : json::array{};
  }
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = 4;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = 6;
    return ip;
  }
  return std::nullopt;
}

namespace {

// The address in its canonical text form, so equal addresses are stored equally.
std::string canonical_ip(std::string_view field, const std::string& text) {
  auto ip = parse_ip(text);
  if (!ip)
    throw ApiError::bad_request("'" + std::string(field) + "' is not an IPv4 or IPv6 address");
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes.data(), buffer, sizeof buffer);
  return buffer;
}

}  // namespace

DenyCondition validate_deny_condition(const json::object& body) {
  DenyCondition out;
  out.type = one_of("conditionType", required_string(body, "conditionType", 16),
                    {"API", "APPLICATION", "IP", "IPRANGE", "USER"});
  auto it = body.find("conditionValue");
  if (it == body.end() || it->value().is_null())
    throw ApiError::bad_request("'conditionValue' is required");
  const json::value& value = it->value();
  auto string_value = [&](std::size_t max_length) {
    if (!value.is_string()) throw ApiError::bad_request("'conditionValue' must be a string");
    std::string s(value.as_string());
    if (s.empty() || s.size() > max_length)
      throw ApiError::bad_request("'conditionValue' must be 1 to " + std::to_string(max_length) +
                                  " characters");
    return s;
  };
  if (out.type == "API") {
    static const std::regex kContext(R"(/[A-Za-z0-9_.~\-{}]+(/[A-Za-z0-9_.~\-{}]+)*)");
    std::string context = string_value(255);
    if (!matches(context, kContext))
      throw ApiError::bad_request(
          "'conditionValue' of an API condition is the API's context with its version, "
          "e.g. /pets/1.0.0");
    out.value = context;
  } else if (out.type == "APPLICATION") {
    std::string app = string_value(512);
    auto colon = app.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == app.size())
      throw ApiError::bad_request(
          "'conditionValue' of an APPLICATION condition is 'owner:applicationName'");
    out.value = app;
  } else if (out.type == "USER") {
    std::string user = string_value(100);
    bool ok = std::all_of(user.begin(), user.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
    });
    if (!ok) throw ApiError::bad_request("'conditionValue' is not a valid username");
    out.value = user;
  } else if (out.type == "IP") {
    // The reference sends {"fixedIp", "invert"}; a bare address string is accepted too.
    if (value.is_string()) {
      out.value = json::object{{"fixedIp", canonical_ip("conditionValue", string_value(64))},
                               {"invert", false}};
    } else {
      const json::object& o = as_object(value, "'conditionValue'");
      out.value = within("conditionValue", [&] {
        return json::object{{"fixedIp", canonical_ip("fixedIp", required_string(o, "fixedIp", 64))},
                            {"invert", optional_bool(o, "invert").value_or(false)}};
      });
    }
  } else {
    const json::object& o = as_object(value, "'conditionValue'");
    out.value = within("conditionValue", [&] {
      std::string start = canonical_ip("startingIp", required_string(o, "startingIp", 64));
      std::string end = canonical_ip("endingIp", required_string(o, "endingIp", 64));
      auto a = *parse_ip(start);
      auto b = *parse_ip(end);
      if (a.family != b.family)
        throw ApiError::bad_request("'startingIp' and 'endingIp' must both be IPv4 or both IPv6");
      if (b < a) throw ApiError::bad_request("'startingIp' must not be after 'endingIp'");
      return json::object{{"startingIp", start},
                          {"endingIp", end},
                          {"invert", optional_bool(o, "invert").value_or(false)}};
    });
  }
  return out;
}

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Letters, digits and inner hyphens; empty allowed (callers decide).
bool is_label(std::string_view text) {
  if (text.empty()) return true;
  if (!is_alnum(text.front()) || !is_alnum(text.back())) return false;
  for (char c : text)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

}  // namespace

// Single passes over the text: the regular expressions these replace backtracked
// exponentially on a long run of letters that ends badly.
bool is_vhost_host(std::string_view host) {
  if (host.empty()) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || !is_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_vhost_context(std::string_view context) {
  if (!context.empty() && context.front() == '/') context.remove_prefix(1);
  return is_label(context);
}

json::object validate_environment(const json::object& body) {
  static const std::regex kName(R"([^~!@#;:%^*()+={}|\\<>"',&$\s/?\[\]]{1,255})");
  json::object out;
  std::string name = required_string(body, "name", 255);
  if (!matches(name, kName))
    throw ApiError::bad_request(
        "'name' must not contain spaces or any of ~!@#;:%^*()+={}|\\<>\"',&$/?[]");
  out["name"] = name;
  out["displayName"] = optional_string(body, "displayName", 255).value_or(name);
  out["description"] = optional_string(body, "description", kMaxDescription).value_or("");
  out["provider"] = optional_string(body, "provider", 64).value_or("wso2");
  const json::array* vhosts = array_field(body, "vhosts");
  if (vhosts == nullptr || vhosts->empty())
    throw ApiError::bad_request("'vhosts' must hold at least one virtual host");
  if (vhosts->size() > kMaxVhosts)
    throw ApiError::bad_request("at most " + std::to_string(kMaxVhosts) + " virtual hosts");
  json::array checked;
  for (std::size_t i = 0; i < vhosts->size(); ++i) {
    checked.push_back(within("vhosts[" + std::to_string(i) + "]", [&] {
      const json::object& v = as_object((*vhosts)[i], "a virtual host");
      std::string host = required_string(v, "host", 255);
      if (!is_vhost_host(host)) throw ApiError::bad_request("'host' is not a valid host name");
      std::string context = optional_string(v, "httpContext", 255).value_or("");
      if (!is_vhost_context(context))
        throw ApiError::bad_request("'httpContext' must be one path segment, e.g. /gw");
      json::object o{{"host", host}, {"httpContext", context}};
      // The reference's defaults for a virtual host's ports.
      o["httpPort"] = optional_int(v, "httpPort", 1, 65535).value_or(80);
      o["httpsPort"] = optional_int(v, "httpsPort", 1, 65535).value_or(443);
      o["wsPort"] = optional_int(v, "wsPort", 1, 65535).value_or(9099);
      o["wssPort"] = optional_int(v, "wssPort", 1, 65535).value_or(8099);
      return o;
    }));
  }
  out["vhosts"] = std::move(checked);
  return out;
}

}  // namespace portico::admin
