#include "publisher/runtime_fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "common/api_error.h"
#include "publisher/service.h"

namespace portico::publisher::runtime_fields {
namespace {

// Bounds of the advanced endpoint configuration, in milliseconds unless named otherwise.
constexpr std::int64_t kMaxActionDuration = 3'600'000;  // an hour for a backend to answer
constexpr std::int64_t kMaxConnectTimeout = 600'000;
constexpr std::int64_t kMaxSuspendDuration = 86'400'000;  // a day
constexpr std::int64_t kMaxRetries = 10;
constexpr std::int64_t kMaxRetryDelay = 60'000;
constexpr double kMaxFactor = 100.0;
constexpr std::size_t kMaxErrorCodes = 50;

ApiError bad(const std::string& description) {
  return ApiError::bad_request(description);
}

// A value quoted in an error description, cut so that a huge one does not echo back whole.
std::string quoted(std::string_view value) {
  constexpr std::size_t kMax = 64;
  return "'" + std::string(value.substr(0, kMax)) + (value.size() > kMax ? "...'" : "'");
}

// Synapse's transport error codes, the only values the reference's error-code lists hold:
// 101000/101001 receiver I/O error sending/receiving, 101500/101501 sender I/O error
// sending/receiving, 101503 connection failed, 101504 connection timed out, 101505 connection
// closed, 101506 protocol violation, 101507 connection cancelled, 101508 connect timed out,
// 101509 send aborted, 101510 response processing failed.
const std::set<std::string, std::less<>>& transport_error_codes() {
  static const std::set<std::string, std::less<>> codes = {"101000", "101001", "101500", "101501",
                                                           "101503", "101504", "101505", "101506",
                                                           "101507", "101508", "101509", "101510"};
  return codes;
}

// Headers that frame or route a message: the gateway owns them, so a policy neither adds nor
// removes them (a second Content-Length or Transfer-Encoding would let requests be smuggled).
bool gateway_owned_header(std::string_view name) {
  static const std::set<std::string, std::less<>> owned = {
      "connection", "content-length", "host",    "keep-alive",       "proxy-connection",
      "te",         "trailer",        "upgrade", "transfer-encoding"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return owned.count(lower) > 0;
}

// The reference's publisher sends "" for a field left empty.
bool unset(const json::value* v) {
  return v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty());
}

// An integer given as a JSON number or a decimal string; nullopt when unset.
std::optional<std::int64_t> lenient_int(const json::object& o, std::string_view key,
                                        const std::string& where, std::int64_t min,
                                        std::int64_t max) {
  const json::value* v = o.if_contains(key);
  if (unset(v)) return std::nullopt;
  auto out_of_range = [&] {
    return bad(where + "." + std::string(key) + " must be an integer from " + std::to_string(min) +
               " to " + std::to_string(max));
  };
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(max)) throw out_of_range();
    n = static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double()) {
    double d = v->get_double();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(max))
      throw out_of_range();
    n = static_cast<std::int64_t>(d);
  } else if (v->is_string()) {
    std::string_view s = v->get_string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size()) throw out_of_range();
  } else {
    throw out_of_range();
  }
  if (n < min || n > max) throw out_of_range();
  return n;
}

// A finite number given as a JSON number or a decimal string; nullopt when unset.
std::optional<double> lenient_number(const json::object& o, std::string_view key,
                                     const std::string& where, double min, double max) {
  const json::value* v = o.if_contains(key);
  if (unset(v)) return std::nullopt;
  auto out_of_range = [&] {
    return bad(where + "." + std::string(key) + " must be a number from " +
               std::to_string(static_cast<int>(min)) + " to " +
               std::to_string(static_cast<int>(max)));
  };
  double d = 0;
  if (v->is_number()) {
    d = v->to_number<double>();
  } else if (v->is_string()) {
    std::string_view s = v->get_string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc{} || end != s.data() + s.size()) throw out_of_range();
  } else {
    throw out_of_range();
  }
  if (!std::isfinite(d) || d < min || d > max) throw out_of_range();
  return d;
}

// A list of transport error codes: ["101503", 101504] or "101503,101504" (the reference's
// publisher has sent both). nullopt when unset or empty, which leaves the gateway's default.
std::optional<json::array> error_codes(const json::object& o, std::string_view key,
                                       const std::string& where) {
  const json::value* v = o.if_contains(key);
  if (unset(v)) return std::nullopt;
  std::string field = where + "." + std::string(key);
  std::vector<std::string> given;
  if (v->is_string()) {
    std::string_view text = v->get_string();
    std::size_t pos = 0;
    while (pos <= text.size() && given.size() <= kMaxErrorCodes) {
      std::size_t comma = std::min(text.find(',', pos), text.size());
      std::string_view item = text.substr(pos, comma - pos);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) given.emplace_back(item);
      pos = comma + 1;
    }
  } else if (v->is_array()) {
    for (const auto& item : v->get_array()) {
      if (given.size() > kMaxErrorCodes) break;
      if (item.is_string())
        given.emplace_back(item.get_string());
      else if (item.is_int64())
        given.push_back(std::to_string(item.get_int64()));
      else
        throw bad(field + " must be a list of error codes such as \"101503\"");
    }
  } else {
    throw bad(field + " must be a list of error codes such as \"101503\"");
  }
  if (given.size() > kMaxErrorCodes)
    throw bad(field + " holds more than " + std::to_string(kMaxErrorCodes) + " codes");
  json::array out;
  std::set<std::string> seen;
  for (const auto& code : given) {
    if (!transport_error_codes().count(code))
      throw bad(field + " holds " + quoted(code) +
                ", which is not a transport error code (101000, 101001, 101500, 101501, "
                "101503 to 101510)");
    if (seen.insert(code).second) out.push_back(json::string(code));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

json::object header_policy(const json::value& v, const std::string& where) {
  if (!v.is_object())
    throw bad(where + " must be an object {policyName, policyVersion, parameters}");
  const json::object& o = v.get_object();
  const json::value* name = o.if_contains("policyName");
  if (unset(name) || !name->is_string()) throw bad(where + ".policyName is required");
  std::string_view policy_name = name->get_string();
  if (policy_name != "addHeader" && policy_name != "removeHeader")
    throw bad(where + ".policyName " + quoted(policy_name) +
              " is not supported (addHeader, removeHeader)");
  if (const json::value* version = o.if_contains("policyVersion"); !unset(version)) {
    if (!version->is_string() || version->get_string() != "v1")
      throw bad(where + ".policyVersion must be v1");
  }
  const json::value* parameters = o.if_contains("parameters");
  if (parameters == nullptr || !parameters->is_object())
    throw bad(where + ".parameters must be an object");
  const json::object& p = parameters->get_object();

  const json::value* header = p.if_contains("headerName");
  if (unset(header) || !header->is_string())
    throw bad(where + ".parameters.headerName is required");
  std::string_view header_name = header->get_string();
  check_header_name(header_name, where + ".parameters.headerName");
  if (gateway_owned_header(header_name))
    throw bad(where + ".parameters.headerName " + quoted(header_name) +
              " is managed by the gateway: no policy adds or removes it");
  json::object out_parameters{{"headerName", header_name}};
  if (policy_name == "addHeader") {
    const json::value* value = p.if_contains("headerValue");
    if (unset(value) || !value->is_string())
      throw bad(where + ".parameters.headerValue is required");
    std::string_view text = value->get_string();
    if (text.size() > kMaxHeaderValueLength)
      throw bad(where + ".parameters.headerValue is longer than " +
                std::to_string(kMaxHeaderValueLength) + " characters");
    for (unsigned char c : text)
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        throw bad(where + ".parameters.headerValue holds a control character");
    out_parameters["headerValue"] = text;
  }
  return json::object{{"policyName", policy_name},
                      {"policyVersion", "v1"},
                      {"parameters", std::move(out_parameters)}};
}

}  // namespace

void check_header_name(std::string_view name, const std::string& field) {
  bool ok = !name.empty() && name.size() <= kMaxHeaderNameLength &&
            std::all_of(name.begin(), name.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '-' || c == '_' || c == '.';
            });
  if (!ok)
    throw bad(field + " must be 1 to " + std::to_string(kMaxHeaderNameLength) +
              " letters, digits, '-', '_' or '.'");
}

json::value max_tps(const json::value& value) {
  if (value.is_null()) return nullptr;
  if (!value.is_object()) throw bad("maxTps must be an object {production, sandbox}");
  json::object out;
  for (const char* key : {"production", "sandbox"}) {
    if (auto n = lenient_int(value.get_object(), key, "maxTps", 0, kMaxTps)) out[key] = *n;
  }
  if (out.empty()) return nullptr;
  return out;
}

json::object no_operation_policies() {
  return json::object{
      {"request", json::array{}}, {"response", json::array{}}, {"fault", json::array{}}};
}

json::object operation_policies(const json::value& value, const std::string& where) {
  if (value.is_null()) return no_operation_policies();
  if (!value.is_object())
    throw bad(where + ": operationPolicies must be an object {request, response, fault}");
  json::object out = no_operation_policies();
  for (const char* flow : {"request", "response", "fault"}) {
    const json::value* list = value.get_object().if_contains(flow);
    if (list == nullptr || list->is_null()) continue;
    std::string field = where + ": operationPolicies." + flow;
    if (!list->is_array()) throw bad(field + " must be a list");
    const json::array& items = list->get_array();
    if (std::string_view(flow) == "fault" && !items.empty())
      throw bad(field + " must be empty: Portico applies no policies to faults");
    if (items.size() > kMaxPoliciesPerFlow)
      throw bad(field + " holds more than " + std::to_string(kMaxPoliciesPerFlow) + " policies");
    json::array policies;
    for (std::size_t i = 0; i < items.size(); ++i)
      policies.push_back(header_policy(items[i], field + "[" + std::to_string(i) + "]"));
    out[flow] = std::move(policies);
  }
  return out;
}

json::object endpoint_config(const json::object& c, const std::string& where) {
  json::object out;
  if (auto n = lenient_int(c, "actionDuration", where, 1, kMaxActionDuration))
    out["actionDuration"] = *n;
  if (const json::value* v = c.if_contains("actionSelect"); !unset(v)) {
    if (!v->is_string() || (v->get_string() != "fault" && v->get_string() != "discard"))
      throw bad(where + ".actionSelect must be fault or discard");
    out["actionSelect"] = v->get_string();
  }
  // -1 is the reference's "never suspend" (what its documentation asks of failover endpoints).
  auto initial = lenient_int(c, "suspendDuration", where, -1, kMaxSuspendDuration);
  if (initial) out["suspendDuration"] = *initial;
  auto maximum = lenient_int(c, "suspendMaxDuration", where, 0, kMaxSuspendDuration);
  if (maximum) {
    if (initial && *initial > 0 && *maximum < *initial)
      throw bad(where + ".suspendMaxDuration must not be less than suspendDuration");
    out["suspendMaxDuration"] = *maximum;
  }
  if (auto f = lenient_number(c, "factor", where, 1.0, kMaxFactor)) out["factor"] = *f;
  if (auto codes = error_codes(c, "suspendErrorCode", where))
    out["suspendErrorCode"] = std::move(*codes);
  // retryTimeOut is a count (the reference's "retries before suspension"), not a duration.
  if (auto n = lenient_int(c, "retryTimeOut", where, 0, kMaxRetries)) out["retryTimeOut"] = *n;
  if (auto n = lenient_int(c, "retryDelay", where, 0, kMaxRetryDelay)) out["retryDelay"] = *n;
  if (auto codes = error_codes(c, "retryErroCode", where)) out["retryErroCode"] = std::move(*codes);
  if (auto n = lenient_int(c, "connectTimeout", where, 1, kMaxConnectTimeout))
    out["connectTimeout"] = *n;
  return out;
}

json::object endpoint(const json::value& value, const std::string& where) {
  if (!value.is_object()) throw bad(where + " must be an object with a url");
  const json::object& o = value.get_object();
  const json::value* url = o.if_contains("url");
  if (url == nullptr || !url->is_string() || !valid_http_url(url->get_string()))
    throw bad(where + ".url must be an http or https URL");
  json::object out{{"url", url->get_string()}};
  if (const json::value* config = o.if_contains("config"); config && !config->is_null()) {
    if (!config->is_object()) throw bad(where + ".config must be an object");
    json::object checked = endpoint_config(config->get_object(), where + ".config");
    if (!checked.empty()) out["config"] = std::move(checked);
  }
  return out;
}

}  // namespace portico::publisher::runtime_fields
