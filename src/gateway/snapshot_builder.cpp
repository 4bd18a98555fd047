#include "gateway/snapshot_builder.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <set>
#include <stdexcept>

namespace portico::gateway {
namespace {

namespace json = boost::json;

// Items come from another process (and, after a restart, from a file on disk): every read
// is tolerant, a missing or mistyped field gives its default.

const json::object* object_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* array_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

std::string string_at(const json::object& o, std::string_view key, std::string fallback = {}) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return fallback;
  return std::string(v->get_string());
}

// The first of several names that holds a non-empty string: fields renamed across versions.
std::string first_string(const json::object& o, std::initializer_list<std::string_view> keys,
                         std::string fallback = {}) {
  for (auto key : keys) {
    std::string s = string_at(o, key);
    if (!s.empty()) return s;
  }
  return fallback;
}

std::optional<bool> bool_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string()) {
    if (v->get_string() == "true") return true;
    if (v->get_string() == "false") return false;
  }
  return std::nullopt;
}

// Numbers arrive as JSON numbers or, in documents shaped like the reference's, as strings.
std::optional<double> number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double())
    return std::isfinite(v.get_double()) ? std::optional(v.get_double()) : std::nullopt;
  if (v.is_string()) {
    std::string_view s = v.get_string();
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (s.empty()) return std::nullopt;
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::optional<double> number_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v == nullptr ? std::nullopt : number_of(*v);
}

// Milliseconds from a number of ms; values outside [min, one day] keep the default.
std::chrono::milliseconds millis_at(const json::object& o, std::string_view key,
                                    std::chrono::milliseconds fallback, double min) {
  auto d = number_at(o, key);
  if (!d || *d < min || *d > 86400000.0) return fallback;
  return std::chrono::milliseconds(static_cast<std::int64_t>(*d));
}

std::int64_t int_at(const json::object& o, std::string_view key) {
  auto d = number_at(o, key);
  if (!d || *d < 0 || *d > 9.0e15) return 0;
  return static_cast<std::int64_t>(*d);
}

std::vector<std::string> strings_at(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (auto* a = array_at(o, key))
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.get_string());
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

void warn(std::vector<std::string>* warnings, std::string text) {
  if (warnings != nullptr) warnings->push_back(std::move(text));
}

// The suspend error codes: [101504, "101505"] or "101504,101505".
std::optional<std::vector<long>> error_codes(const json::value& v) {
  std::vector<long> codes;
  auto add = [&](std::string_view text) {
    while (!text.empty()) {
      auto comma = text.find(',');
      std::string_view part = text.substr(0, comma);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      long code = 0;
      auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), code);
      if (!part.empty() && ec == std::errc{} && end == part.data() + part.size())
        codes.push_back(code);
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  };
  if (v.is_string()) {
    add(v.get_string());
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (e.is_string()) add(e.get_string());
      if (auto d = number_of(e); d && !e.is_string()) codes.push_back(static_cast<long>(*d));
    }
  } else {
    return std::nullopt;
  }
  return codes;
}

// The endpoint's `config` (the reference's per-endpoint advanced settings).
void apply_endpoint_config(const json::object& config, Endpoint& e) {
  e.read_timeout = millis_at(config, "actionDuration", e.read_timeout, 1);
  e.connect_timeout = millis_at(config, "connectTimeout", e.connect_timeout, 1);
  e.suspend.initial = millis_at(config, "suspendDuration", e.suspend.initial, 0);
  e.suspend.max = millis_at(config, "suspendMaxDuration", e.suspend.max, 0);
  if (auto f = number_at(config, "factor"); f && *f >= 1.0 && *f <= 1000.0) e.suspend.factor = *f;
  if (auto* v = config.if_contains("suspendErrorCode"))
    if (auto codes = error_codes(*v)) e.suspend.codes = std::move(*codes);
  if (e.suspend.max < e.suspend.initial) e.suspend.max = e.suspend.initial;
  // suspendDuration -1 is the reference's "never suspend" (what it asks of failover
  // endpoints): no failure code suspends.
  if (auto d = number_at(config, "suspendDuration"); d && *d < 0) {
    e.suspend.codes.clear();
    e.suspend.initial = e.suspend.max = std::chrono::milliseconds(0);
  }
}

// What makes two endpoints share a slot: everything the per-thread state depends on.
std::string slot_key(const Endpoint& e) {
  std::string key = e.url;
  key += '\n';
  key += std::to_string(e.connect_timeout.count()) + ' ' + std::to_string(e.read_timeout.count());
  key += ' ' + std::to_string(e.suspend.initial.count()) + ' ' +
         std::to_string(e.suspend.max.count()) + ' ' + std::to_string(e.suspend.factor);
  for (long c : e.suspend.codes) key += ' ' + std::to_string(c);
  return key;
}

// Thrown inside one artifact's compilation; caught per artifact, so that it skips the item.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Endpoint compile_endpoint(const json::value& v, EndpointSlots& slots, const std::string& where) {
  if (!v.is_object()) throw Malformed(where + " is not an object");
  const json::object& o = v.get_object();
  std::string url = string_at(o, "url");
  std::string error;
  auto endpoint = parse_endpoint_url(url, &error);
  if (!endpoint) throw Malformed(where + ".url '" + url + "': " + error);
  if (auto* config = object_at(o, "config")) apply_endpoint_config(*config, *endpoint);
  auto slot = slots.slot_for(*endpoint);
  if (!slot)
    throw Malformed(where + ": no endpoint slot left (" + std::to_string(slots.capacity()) +
                    " distinct endpoints seen)");
  endpoint->slot = *slot;
  return std::move(*endpoint);
}

// One environment's endpoints ("production" or "sandbox") of an endpointConfig.
std::optional<EndpointGroup> compile_group(const json::object& config, std::string_view which,
                                           EndpointSlots& slots) {
  std::string key = std::string(which) + "_endpoints";
  auto* primary = config.if_contains(key);
  if (primary == nullptr || primary->is_null()) return std::nullopt;
  std::string type = string_at(config, "endpoint_type", "http");
  EndpointGroup group;
  std::string where = "endpointConfig." + key;
  if (type == "load_balance") {
    group.type = EndpointGroup::Type::kLoadBalance;
    if (primary->is_array()) {
      for (const auto& e : primary->get_array())
        group.endpoints.push_back(compile_endpoint(e, slots, where + "[]"));
    } else {
      group.endpoints.push_back(compile_endpoint(*primary, slots, where));
    }
  } else if (type == "http" || type == "failover") {
    group.type = type == "http" ? EndpointGroup::Type::kHttp : EndpointGroup::Type::kFailover;
    // The reference stores a single endpoint as an object; a one-element list means the same.
    const json::value* first = primary;
    if (primary->is_array()) {
      if (primary->get_array().size() != 1)
        throw Malformed(where + " must be one endpoint for endpoint_type " + type);
      first = &primary->get_array()[0];
    }
    group.endpoints.push_back(compile_endpoint(*first, slots, where));
    if (type == "failover") {
      std::string failovers = std::string(which) + "_failovers";
      if (auto* list = array_at(config, failovers))
        for (const auto& e : *list)
          group.endpoints.push_back(compile_endpoint(e, slots, "endpointConfig." + failovers));
    }
  } else {
    throw Malformed("endpointConfig.endpoint_type '" + type + "' is not http, load_balance or " +
                    "failover");
  }
  if (group.endpoints.empty()) throw Malformed(where + " is an empty list");
  return group;
}

std::vector<HeaderPolicy> compile_header_policies(const json::object& policies,
                                                  std::string_view flow, const std::string& where,
                                                  std::vector<std::string>* warnings) {
  std::vector<HeaderPolicy> out;
  auto* list = array_at(policies, flow);
  if (list == nullptr) return out;
  for (const auto& entry : *list) {
    if (!entry.is_object()) throw Malformed(where + " holds a policy that is not an object");
    const json::object& p = entry.get_object();
    std::string name = string_at(p, "policyName");
    const json::object* params = object_at(p, "parameters");
    HeaderPolicy policy;
    if (name == "addHeader") {
      policy.kind = HeaderPolicy::Kind::kAdd;
    } else if (name == "removeHeader") {
      policy.kind = HeaderPolicy::Kind::kRemove;
    } else {
      // An unknown mediation policy cannot be honoured; the call runs without it rather than
      // the whole API going dark, and the operator hears about it.
      warn(warnings, where + ": operation policy '" + name + "' is not supported; ignored");
      continue;
    }
    policy.name = params != nullptr ? string_at(*params, "headerName") : std::string();
    if (policy.name.empty()) throw Malformed(where + ": " + name + " without headerName");
    for (unsigned char c : policy.name)
      if (c <= 0x20 || c >= 0x7f || c == ':')
        throw Malformed(where + ": header name '" + policy.name + "' is not a token");
    if (policy.kind == HeaderPolicy::Kind::kAdd) {
      policy.value = string_at(*params, "headerValue");
      for (unsigned char c : policy.value)
        if (c == '\r' || c == '\n' || c == 0)
          throw Malformed(where + ": header value of '" + policy.name + "' holds a line break");
    }
    out.push_back(std::move(policy));
  }
  return out;
}

// An artifact compiled, with what routing needs to settle conflicts.
struct CompiledApi {
  std::shared_ptr<const Api> api;
  std::size_t order = 0;  // position in the list: the later of two equal times wins
};

CompiledApi compile_artifact(const json::value& item, std::size_t order, EndpointSlots& slots,
                             std::vector<std::string>* warnings) {
  if (!item.is_object()) throw Malformed("is not an object");
  const json::object& artifact = item.get_object();
  const json::object* doc = object_at(artifact, "api");
  if (doc == nullptr) throw Malformed("has no API document");
  auto api = std::make_shared<Api>();
  api->id = first_string(*doc, {"id"}, string_at(artifact, "apiId"));
  if (api->id.empty()) throw Malformed("has no API id");
  api->name = string_at(*doc, "name");
  api->version = string_at(*doc, "version");
  std::string context = string_at(*doc, "context");
  if (api->name.empty() || api->version.empty() || context.empty())
    throw Malformed("API " + api->id + " lacks a name, version or context");
  if (context.front() != '/') context.insert(0, "/");
  while (context.size() > 1 && context.back() == '/') context.pop_back();
  if (context == "/") throw Malformed("API " + api->id + " has the context '/'");
  // The reference allows the version inside the context ("/{version}/pets"); the default
  // version is then reached with that segment left out.
  constexpr std::string_view kVersionVar = "{version}";
  if (auto at = context.find(kVersionVar); at != std::string::npos) {
    api->context_version = context;
    api->context_version.replace(at, kVersionVar.size(), api->version);
    api->context = context;
    api->context.erase(at, kVersionVar.size());
    if (auto twice = api->context.find("//"); twice != std::string::npos)
      api->context.erase(twice, 1);
    while (api->context.size() > 1 && api->context.back() == '/') api->context.pop_back();
  } else {
    api->context = context;
    api->context_version = context + "/" + api->version;
  }
  api->provider = string_at(*doc, "provider");
  // The API's state now (served beside the revision's document, whose own state is the one
  // it was taken in), falling back to the document's.
  api->lifecycle =
      upper(first_string(artifact, {"lifeCycleStatus", "lifecycleStatus"},
                         first_string(*doc, {"lifeCycleStatus", "lifecycleStatus"}, "CREATED")));
  api->revision_id = string_at(artifact, "revisionId");
  api->default_version = bool_at(*doc, "isDefaultVersion").value_or(false);
  // The API document has no such flag: as in the reference, a prototype is opened to calls
  // without credentials by giving its operations authType None. Left false.
  api->prototype_without_auth = false;

  // Security scheme: the publisher's default when absent.
  if (auto* schemes = array_at(*doc, "securityScheme")) {
    auto has = [&](std::string_view s) {
      return std::any_of(schemes->begin(), schemes->end(), [&](const json::value& v) {
        return v.is_string() && v.get_string() == s;
      });
    };
    api->oauth2 = has("oauth2");
    api->api_key = has("api_key");
    api->basic_auth = has("basic_auth");
    api->mandatory_all = has("oauth_basic_auth_api_key_mandatory");
  } else {
    api->oauth2 = true;
    api->mandatory_all = true;
  }
  api->authorization_header = first_string(*doc, {"authorizationHeader"}, "Authorization");
  api->api_key_header = first_string(*doc, {"apiKeyHeader"}, "apikey");
  api->api_key_in_query = bool_at(*doc, "enableApiKeyQueryParam").value_or(false);

  if (auto* cors = object_at(*doc, "corsConfiguration")) {
    api->cors.enabled = bool_at(*cors, "corsConfigurationEnabled").value_or(false);
    api->cors.allow_origins = strings_at(*cors, "accessControlAllowOrigins");
    api->cors.allow_credentials = bool_at(*cors, "accessControlAllowCredentials").value_or(false);
    api->cors.allow_headers = join(strings_at(*cors, "accessControlAllowHeaders"));
    api->cors.allow_methods = join(strings_at(*cors, "accessControlAllowMethods"));
  }
  // scopes: [{scope: {name, bindings: [role...]}}]. Basic-authenticated callers hold a scope
  // through one of its roles; OAuth callers through their token.
  if (auto* scopes = array_at(*doc, "scopes")) {
    for (const auto& entry : *scopes) {
      const json::object* scope =
          entry.is_object() ? object_at(entry.get_object(), "scope") : nullptr;
      if (scope == nullptr) continue;
      std::string name = string_at(*scope, "name");
      if (!name.empty()) api->scope_roles[name] = strings_at(*scope, "bindings");
    }
  }
  api->api_throttling_policy = string_at(*doc, "apiThrottlingPolicy");
  if (auto* tps = object_at(*doc, "maxTps")) {
    api->max_tps_production = int_at(*tps, "production");
    api->max_tps_sandbox = int_at(*tps, "sandbox");
  }

  if (auto* config = object_at(*doc, "endpointConfig")) {
    api->production = compile_group(*config, "production", slots);
    api->sandbox = compile_group(*config, "sandbox", slots);
  }

  std::set<std::pair<std::string, std::string>> seen;
  if (auto* ops = array_at(*doc, "operations")) {
    for (const auto& entry : *ops) {
      if (!entry.is_object()) throw Malformed("API " + api->id + ": an operation is no object");
      const json::object& op = entry.get_object();
      Resource r;
      r.verb = upper(string_at(op, "verb"));
      r.uri_template = string_at(op, "target");
      if (r.verb.empty() || r.uri_template.empty() || r.uri_template.front() != '/')
        throw Malformed("API " + api->id + ": an operation lacks a verb or a /target");
      std::string where = "API " + api->id + " " + r.verb + " " + r.uri_template;
      if (!seen.emplace(r.verb, r.uri_template).second) {
        warn(warnings, where + " is listed twice; the first is kept");
        continue;
      }
      std::string auth = string_at(op, "authType", "Application & Application User");
      auto parsed = parse_auth_type(auth);
      if (!parsed) throw Malformed(where + ": authType '" + auth + "' is unknown");
      r.auth = *parsed;
      r.scopes = strings_at(op, "scopes");
      r.throttling_policy = string_at(op, "throttlingPolicy");
      r.throttle_key = api->id + ":" + r.verb + ":" + r.uri_template;
      if (auto* policies = object_at(op, "operationPolicies")) {
        r.request_headers = compile_header_policies(*policies, "request", where, warnings);
        r.response_headers = compile_header_policies(*policies, "response", where, warnings);
      }
      api->resources.push_back(std::move(r));
    }
  }
  api->deployed_time = int_at(artifact, "deployedTime");
  CompiledApi out;
  out.order = order;
  out.api = std::move(api);
  return out;
}

// "newer" deployed later (or, at the same second, comes later in the list).
bool newer(const CompiledApi& a, const CompiledApi& b) {
  const auto a_time = a.api->deployed_time, b_time = b.api->deployed_time;
  return a_time != b_time ? a_time > b_time : a.order > b.order;
}

std::string id_of(const json::value& item, std::string_view key = "id") {
  return item.is_object() ? string_at(item.get_object(), key) : std::string();
}

}  // namespace

std::optional<std::size_t> EndpointSlots::slot_for(const Endpoint& endpoint) {
  std::string key = slot_key(endpoint);
  std::lock_guard lock(mutex_);
  auto it = slots_.find(key);
  if (it != slots_.end()) return it->second;
  if (slots_.size() >= capacity_) return std::nullopt;
  std::size_t slot = slots_.size();
  slots_.emplace(std::move(key), slot);
  return slot;
}

std::size_t EndpointSlots::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

std::optional<AuthType> parse_auth_type(std::string_view text) {
  if (text == "None") return AuthType::kNone;
  if (text == "Application") return AuthType::kApplication;
  if (text == "Application User") return AuthType::kApplicationUser;
  if (text == "Application & Application User" || text == "Any")
    return AuthType::kApplicationAndApplicationUser;
  return std::nullopt;
}

std::optional<Endpoint> parse_endpoint_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Endpoint> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  if (url.empty()) return fail("no URL");
  if (url.size() > 2048) return fail("longer than 2048 characters");
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return fail("not an absolute URI (" + parsed.error().message() + ")");
  const boost::urls::url_view& u = *parsed;
  Endpoint e;
  e.url = std::string(url);
  if (u.scheme_id() == boost::urls::scheme::https) {
    e.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    return fail("the scheme is not http or https");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return fail("no host");
  if (u.has_userinfo()) return fail("user info in an endpoint URL is not supported");
  if (u.has_query()) return fail("a query in an endpoint URL is not supported");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      e.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipvfuture:
      return fail("an IPvFuture host is not supported");
    default:
      e.host = u.host();  // decoded; a reg-name or an IPv4 address
      break;
  }
  if (e.host.empty()) return fail("no host");
  if (u.has_port() && !u.port().empty()) {
    // port_number() wraps what does not fit 16 bits: read the digits ourselves.
    std::string_view digits = u.port();
    unsigned long port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return fail("port '" + std::string(digits) + "' is out of range");
    e.port = std::to_string(port);
  } else {
    e.port = e.tls ? "443" : "80";
  }
  // As written in the URL (an explicit default port stays), which is what the reference
  // sends upstream.
  e.host_header = std::string(u.encoded_host_and_port());
  if (u.has_port() && u.port().empty()) e.host_header.pop_back();  // "host:" → "host"
  e.base_path = std::string(u.encoded_path());
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  return e;
}

std::optional<Application> parse_application(const json::value& item) {
  std::string id = id_of(item);
  if (id.empty()) return std::nullopt;
  const json::object& o = item.get_object();
  Application app;
  app.id = std::move(id);
  app.name = string_at(o, "name");
  app.owner = string_at(o, "owner");
  app.throttling_policy = string_at(o, "throttlingPolicy");
  app.status = string_at(o, "status", "APPROVED");
  return app;
}

std::optional<std::pair<std::string, KeyMapping>> parse_key_mapping(const json::value& item) {
  std::string client_id = id_of(item, "clientId");
  std::string application_id = id_of(item, "applicationId");
  if (client_id.empty() || application_id.empty()) return std::nullopt;
  KeyMapping mapping;
  mapping.application_id = std::move(application_id);
  mapping.key_type = upper(string_at(item.get_object(), "keyType", "PRODUCTION"));
  return std::pair{std::move(client_id), std::move(mapping)};
}

std::optional<Subscription> parse_subscription(const json::value& item) {
  std::string application_id = id_of(item, "applicationId");
  std::string api_id = id_of(item, "apiId");
  if (application_id.empty() || api_id.empty()) return std::nullopt;
  const json::object& o = item.get_object();
  Subscription sub;
  sub.id = string_at(o, "id");
  sub.throttling_policy = string_at(o, "throttlingPolicy");
  sub.status = upper(string_at(o, "status", "UNBLOCKED"));
  sub.throttle_key = application_id + ":" + api_id;
  sub.application_id = std::move(application_id);
  sub.api_id = std::move(api_id);
  return sub;
}

std::optional<ApplicationRecord> parse_application_record(const json::value& item) {
  auto app = parse_application(item);
  if (!app) return std::nullopt;
  ApplicationRecord record;
  record.application = std::move(*app);
  const json::object& o = item.get_object();
  if (const json::array* keys = array_at(o, "keyMappings")) {
    for (const auto& k : *keys) {
      auto mapping = parse_key_mapping(k);
      if (mapping && mapping->second.application_id == record.application.id)
        record.clients.insert_or_assign(std::move(mapping->first), std::move(mapping->second));
    }
  }
  if (const json::array* subs = array_at(o, "subscriptions")) {
    for (const auto& item : *subs) {
      auto sub = parse_subscription(item);
      if (!sub || sub->application_id != record.application.id) continue;
      std::string api_id = sub->api_id;
      record.subscriptions.insert_or_assign(std::move(api_id), std::move(*sub));
    }
  }
  return record;
}

std::shared_ptr<const Api> compile_api(const json::value& artifact, EndpointSlots& slots,
                                       std::vector<std::string>* warnings) {
  try {
    return compile_artifact(artifact, 0, slots, warnings).api;
  } catch (const std::exception& e) {
    std::string id = id_of(artifact, "apiId");
    warn(warnings,
         "runtime artifact " + (id.empty() ? "without an id" : id) + " skipped: " + e.what());
    return nullptr;
  }
}

std::shared_ptr<const Snapshot> build_snapshot(const SnapshotSources& sources,
                                               std::uint64_t version, EndpointSlots& slots,
                                               std::vector<std::string>* warnings) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  snapshot->environment = sources.environment;

  // APIs and routing.
  std::vector<CompiledApi> compiled;
  compiled.reserve(sources.runtime_artifacts.size());
  for (std::size_t i = 0; i < sources.runtime_artifacts.size(); ++i) {
    const auto& item = sources.runtime_artifacts[i];
    try {
      compiled.push_back(compile_artifact(item, i, slots, warnings));
    } catch (const std::exception& e) {
      std::string id = id_of(item, "apiId");
      warn(warnings, "runtime artifact " + (id.empty() ? "#" + std::to_string(i) : id) +
                         " skipped: " + e.what());
    }
  }
  StringMap<const CompiledApi*> routes;
  auto claim = [&](const std::string& key, const CompiledApi& candidate) {
    auto [it, inserted] = routes.try_emplace(key, &candidate);
    if (inserted) return;
    const CompiledApi& holder = *it->second;
    const CompiledApi& winner = newer(candidate, holder) ? candidate : holder;
    const CompiledApi& loser = &winner == &candidate ? holder : candidate;
    warn(warnings, "APIs " + winner.api->id + " and " + loser.api->id + " both claim " + key +
                       "; " + winner.api->id + " (deployed later) keeps it");
    it->second = &winner;
  };
  for (const auto& c : compiled) {
    claim(c.api->context_version, c);
    if (c.api->default_version) claim(c.api->context, c);
  }
  for (const auto& c : compiled) snapshot->apis.insert_or_assign(c.api->id, c.api);
  for (const auto& [key, c] : routes) snapshot->by_context.insert_or_assign(key, c->api);

  for (std::size_t i = 0; i < sources.applications.size(); ++i) {
    auto app = parse_application(sources.applications[i]);
    if (!app) {
      warn(warnings, "application #" + std::to_string(i) + " skipped: no id");
      continue;
    }
    std::string id = app->id;
    snapshot->applications.insert_or_assign(std::move(id), std::move(*app));
  }

  for (std::size_t i = 0; i < sources.key_mappings.size(); ++i) {
    auto parsed = parse_key_mapping(sources.key_mappings[i]);
    if (!parsed) {
      warn(warnings,
           "key mapping #" + std::to_string(i) + " skipped: no clientId or applicationId");
      continue;
    }
    auto& [client_id, mapping] = *parsed;
    if (const KeyMapping* held = snapshot->clients.find(client_id)) {
      if (held->application_id != mapping.application_id)
        warn(warnings, "client " + client_id + " is mapped to two applications; " +
                           held->application_id + " keeps it");
      continue;
    }
    snapshot->map_client(client_id, mapping);
  }

  // Subscriptions are kept even when their application or API is unknown here: the request
  // path tells "not subscribed" from "subscription blocked" by what it finds.
  for (std::size_t i = 0; i < sources.subscriptions.size(); ++i) {
    auto sub = parse_subscription(sources.subscriptions[i]);
    if (!sub) {
      warn(warnings, "subscription #" + std::to_string(i) + " skipped: no applicationId or apiId");
      continue;
    }
    std::string application_id = sub->application_id, api_id = sub->api_id;
    snapshot->subscriptions[application_id].insert_or_assign(std::move(api_id), std::move(*sub));
  }

  try {
    snapshot->policies =
        traffic::PolicySet::build(sources.subscription_policies, sources.application_policies,
                                  sources.advanced_policies, sources.deny_policies, warnings);
  } catch (const std::exception& e) {
    warn(warnings, std::string("throttling policies could not be compiled: ") + e.what());
    return nullptr;
  }
  if (!snapshot->policies) {
    warn(warnings, "throttling policies could not be compiled");
    return nullptr;
  }
  return snapshot;
}

}  // namespace portico::gateway
