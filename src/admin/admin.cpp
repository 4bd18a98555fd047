#include "admin/admin.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_internal.h"
#include "admin/validation.h"
#include "common/api_error.h"
#include "common/log.h"

namespace portico::admin {

namespace json = boost::json;

http::Handler guarded(http::Handler handler) {
  return [handler = std::move(handler)](http::Request& request) {
    if (request.body.size() > kMaxBodyBytes)
      throw ApiError(413, 413, "Payload Too Large",
                     "The body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    try {
      return handler(request);
    } catch (const store::UnavailableError& e) {
      spdlog::error("admin: database unavailable: {}", e.what());
      ApiError error(503, 503, "Service Unavailable", "The database is unavailable; retry later");
      error.headers["Retry-After"] = "5";
      throw error;
    }
  };
}

http::Response json_response(int status, const json::value& body) {
  return http::Response::json(status, json::serialize(body));
}

http::Response empty_ok() {
  http::Response response;
  response.status = 200;
  return response;
}

keymanager::Principal Admin::Impl::authorize(const http::Request& request, std::string_view scope) {
  auto principal = key_manager.authenticate(request);
  if (!principal.has_scope(scope) && !principal.has_scope("apim:admin"))
    throw ApiError(
        403, 900910, "Forbidden",
        "The caller lacks the scope " + std::string(scope) + " that this operation requires");
  return principal;
}

void Admin::Impl::publish(std::string_view type, const json::object& payload) {
  bus.publish(std::string(type), json::serialize(payload));
}

Admin::Admin(const Config& config, store::Database& db, events::EventBus& bus,
             keymanager::KeyManager& key_manager)
    : impl_(std::make_unique<Impl>(config, db, bus, key_manager)) {}

Admin::~Admin() = default;

void Admin::initialize() {
  impl_->seed_policies();
  impl_->seed_environment();
}

void Admin::register_routes(http::Router& router) {
  impl_->add_policy_routes(router);
  impl_->add_deny_policy_routes(router);
  impl_->add_environment_routes(router);
  impl_->add_scim_routes(router);
  impl_->add_oauth_client_routes(router);
  impl_->add_internal_routes(router);
  impl_->add_gateway_credential_routes(router);
}

bool Admin::policy_exists(PolicyLevel level, const std::string& name) {
  return impl_->policies.find_by_name(std::string(level_name(level)), name).has_value();
}

json::array Admin::policy_summaries(PolicyLevel level) {
  json::array out;
  for (const auto& record : impl_->policies.list(std::string(level_name(level)))) {
    json::value parsed = json::parse(record.document);
    const json::object& doc = parsed.as_object();
    const json::object& limit = doc.at("defaultLimit").as_object();
    const bool requests = limit.at("type").as_string() == "REQUESTCOUNTLIMIT";
    const json::object& detail = limit.at(requests ? "requestCount" : "bandwidth").as_object();
    json::object summary{{"name", record.name},
                         {"description", doc.at("description")},
                         {"policyLevel", level_name(level)},
                         {"displayName", doc.at("displayName")},
                         {"attributes", json::object{}},
                         {"requestCount", requests ? detail.at("requestCount") : json::value(0)},
                         {"dataUnit", requests ? json::value(nullptr) : detail.at("dataUnit")},
                         {"unitTime", detail.at("unitTime")},
                         {"timeUnit", detail.at("timeUnit")},
                         {"quotaPolicyType", requests ? "REQUESTCOUNT" : "BANDWIDTHVOLUME"}};
    if (!requests) summary["dataAmount"] = detail.at("dataAmount");
    if (level == PolicyLevel::subscription) {
      summary["rateLimitCount"] = doc.at("rateLimitCount");
      if (auto it = doc.find("rateLimitTimeUnit"); it != doc.end())
        summary["rateLimitTimeUnit"] = it->value();
      summary["tierPlan"] = doc.at("billingPlan");
      summary["stopOnQuotaReach"] = doc.at("stopOnQuotaReach");
      if (auto it = doc.find("customAttributes"); it != doc.end()) {
        json::object attributes;
        for (const auto& a : it->value().as_array())
          attributes[a.at("name").as_string()] = a.at("value");
        summary["attributes"] = std::move(attributes);
      }
    } else {
      summary["tierPlan"] = "FREE";
      summary["stopOnQuotaReach"] = true;
    }
    out.push_back(std::move(summary));
  }
  return out;
}

namespace {

Environment to_environment(const store::EnvironmentRecord& record) {
  Environment e;
  e.id = record.id;
  e.name = record.name;
  json::value parsed = json::parse(record.document);
  const json::object& doc = parsed.as_object();
  e.display_name = std::string(doc.at("displayName").as_string());
  for (const auto& value : doc.at("vhosts").as_array()) {
    const json::object& v = value.as_object();
    VirtualHost vhost;
    vhost.host = v.at("host").as_string();
    // Stored by validate_environment with every field; older rows may lack the ports.
    if (auto* context = v.if_contains("httpContext"); context && context->is_string())
      vhost.http_context = context->as_string();
    if (auto* port = v.if_contains("httpPort"); port && port->is_int64())
      vhost.http_port = static_cast<int>(port->as_int64());
    if (auto* port = v.if_contains("httpsPort"); port && port->is_int64())
      vhost.https_port = static_cast<int>(port->as_int64());
    e.vhosts.push_back(std::move(vhost));
  }
  return e;
}

std::string vhost_url(std::string_view scheme, const VirtualHost& v, int port, int default_port) {
  std::string url = std::string(scheme) + "://" + v.host;
  if (port != default_port) url += ":" + std::to_string(port);
  // "gw" and "/gw" mean the same; "" and "/" mean none.
  std::string_view context = v.http_context;
  if (!context.empty() && context.front() == '/') context.remove_prefix(1);
  if (!context.empty()) url.append("/").append(context);
  return url;
}

}  // namespace

std::string VirtualHost::http_url() const {
  return vhost_url("http", *this, http_port, 80);
}

std::string VirtualHost::https_url() const {
  return vhost_url("https", *this, https_port, 443);
}

const VirtualHost& Environment::vhost(std::string_view host) const {
  for (const auto& v : vhosts)
    if (v.host == host) return v;
  return vhosts.front();
}

std::optional<Environment> Admin::find_environment(const std::string& name) {
  auto record = impl_->environments.find_by_name(name);
  if (!record) return std::nullopt;
  return to_environment(*record);
}

std::vector<Environment> Admin::environments() {
  std::vector<Environment> out;
  for (const auto& record : impl_->environments.list()) out.push_back(to_environment(record));
  return out;
}

}  // namespace portico::admin
