#include "devportal/devportal.h"

#include <algorithm>

#include "common/clock.h"
#include "common/json_body.h"
#include "devportal/devportal_impl.h"
#include "http/paging.h"

namespace portico::devportal {

namespace {

json::object parse_document(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

json::value member_or(const json::object& o, std::string_view key, json::value fallback) {
  if (auto it = o.find(key); it != o.end() && !it->value().is_null()) return it->value();
  return fallback;
}

// "/pizzashack/1.0.0", after the vhost's URL: the publisher may keep {version} in the context.
std::string gateway_path(const store::CatalogApi& api) {
  std::string context = api.context;
  if (auto at = context.find("{version}"); at != std::string::npos) {
    return context.replace(at, 9, api.version);
  }
  std::string suffix = "/" + api.version;
  if (context.size() >= suffix.size() &&
      context.compare(context.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return context;
  }
  return context + suffix;
}

}  // namespace

http::Response json_response(int status, const json::value& value) {
  return http::Response::json(status, json::serialize(value));
}

Viewer DevPortalState::viewer(const http::Request& request) {
  if (!request.headers.get("Authorization")) return std::nullopt;
  return km.authenticate(request);
}

bool DevPortalState::visible(const store::CatalogApi& api, const Viewer& viewer) {
  const auto& s = api.lifecycle_status;
  if (s != "PUBLISHED" && s != "PROTOTYPED" && s != "DEPRECATED") return false;
  if (api.visibility == "PUBLIC" || api.visibility.empty()) return true;
  if (!viewer) return false;
  if (viewer->has_role(kRoleAdmin)) return true;
  if (api.visibility == "RESTRICTED") {
    json::object doc = parse_document(api.document);
    if (auto* roles = doc.if_contains("visibleRoles"); roles && roles->is_array()) {
      for (const auto& role : roles->as_array()) {
        if (role.is_string() && viewer->has_role(std::string_view(role.as_string()))) {
          return true;
        }
      }
    }
    return false;
  }
  // PRIVATE in the reference means "this tenant's users": every signed-in user here.
  return true;
}

store::CatalogApi DevPortalState::visible_api(const std::string& api_id, const Viewer& viewer) {
  auto api = catalog.find(api_id);
  if (!api || !visible(*api, viewer)) {
    throw ApiError::not_found("Requested API with id '" + api_id + "' not found");
  }
  return *api;
}

namespace {

json::object api_info_of(const store::CatalogApi& api, const std::vector<std::string>& tiers,
                         std::pair<std::int64_t, double> rating) {
  json::object doc = parse_document(api.document);
  auto [ratings, average] = rating;
  json::array policies;
  for (auto& p : tiers) policies.emplace_back(p);
  bool has_thumbnail = api.has_thumbnail;
  json::object o;
  o["id"] = api.id;
  o["name"] = api.name;
  o["description"] = api.description;
  o["context"] = api.context;
  o["version"] = api.version;
  o["type"] = member_or(doc, "type", "HTTP");
  o["createdTime"] = std::to_string(api.created_time * 1000);
  o["provider"] = api.provider;
  o["lifeCycleStatus"] = api.lifecycle_status;
  o["thumbnailUri"] = has_thumbnail ? json::value("/apis/" + api.id + "/thumbnail") : nullptr;
  o["avgRating"] = ratings ? std::to_string(average) : "0.0";
  o["throttlingPolicies"] = policies;
  o["businessInformation"] = member_or(doc, "businessInformation", json::object{});
  o["isSubscriptionAvailable"] =
      api.lifecycle_status == "PUBLISHED" || api.lifecycle_status == "PROTOTYPED";
  return o;
}

}  // namespace

json::object DevPortalState::api_info(const store::CatalogApi& api) {
  return api_info_of(api, catalog.subscription_policies(api.id), feedback.rating_summary(api.id));
}

std::vector<json::object> DevPortalState::api_infos(const std::vector<store::CatalogApi>& apis) {
  std::vector<std::string> ids;
  for (const auto& api : apis) ids.push_back(api.id);
  auto tiers = catalog.subscription_policies_of(ids);
  auto ratings = feedback.rating_summaries(ids);
  auto tags = catalog.tags_of(ids);
  static const std::vector<std::string> kNone;
  std::vector<json::object> out;
  for (const auto& api : apis) {
    auto t = tiers.find(api.id);
    auto r = ratings.find(api.id);
    json::object info =
        api_info_of(api, t == tiers.end() ? kNone : t->second,
                    r == ratings.end() ? std::pair<std::int64_t, double>{0, 0.0} : r->second);
    json::array api_tags;
    if (auto found = tags.find(api.id); found != tags.end())
      for (const auto& tag : found->second) api_tags.emplace_back(tag);
    info["tags"] = std::move(api_tags);
    out.push_back(std::move(info));
  }
  return out;
}

json::object DevPortalState::api_detail(const store::CatalogApi& api) {
  json::object doc = parse_document(api.document);
  json::object o = api_info(api);
  json::array tags, tiers, urls;
  for (auto& t : catalog.tags(api.id)) tags.emplace_back(t);
  for (auto& p : catalog.subscription_policies(api.id)) {
    tiers.emplace_back(
        json::object{{"tierName", p}, {"tierPlan", "FREE"}, {"monetizationAttributes", nullptr}});
  }
  std::string path = gateway_path(api);
  for (const auto& d : catalog.deployments(api.id)) {
    if (!d.display_on_devportal) continue;
    // The environment's vhost as the admin stores it (host, ports, httpContext). A
    // deployment always names an existing environment (one in use cannot be deleted); the
    // reference's ports stand in should it be gone all the same.
    auto env = admin.find_environment(d.environment);
    std::string display = env ? env->display_name : d.environment;
    admin::VirtualHost vhost =
        env ? env->vhost(d.vhost) : admin::VirtualHost{d.vhost, "", 8280, 8243};
    json::object url_set{{"http", vhost.http_url() + path},
                         {"https", vhost.https_url() + path},
                         {"ws", nullptr},
                         {"wss", nullptr}};
    urls.emplace_back(json::object{{"environmentName", d.environment},
                                   {"environmentDisplayName", display},
                                   {"environmentType", "hybrid"},
                                   {"URLs", url_set},
                                   {"defaultVersionURLs", nullptr}});
  }
  o.erase("throttlingPolicies");
  o.erase("thumbnailUri");
  o["hasThumbnail"] = api.has_thumbnail;
  o["isDefaultVersion"] = member_or(doc, "isDefaultVersion", false);
  o["transport"] = member_or(doc, "transport", json::array{"http", "https"});
  o["tags"] = tags;
  o["tiers"] = tiers;
  o["authorizationHeader"] = member_or(doc, "authorizationHeader", "Authorization");
  o["securityScheme"] = member_or(doc, "securityScheme", json::array{"oauth2"});
  o["additionalProperties"] = member_or(doc, "additionalProperties", json::array{});
  o["endpointURLs"] = urls;
  o["lastUpdatedTime"] = std::to_string(api.updated_time * 1000);
  return o;
}

store::ApplicationRecord DevPortalState::owned_application(const std::string& id,
                                                           const std::string& owner) {
  auto app = applications.find_owned(id, owner);
  if (!app) throw ApiError::not_found("Application with id '" + id + "' not found");
  return *app;
}

json::object DevPortalState::application_json(const store::ApplicationRecord& app, bool with_keys) {
  json::object doc = parse_document(app.document);
  json::object o;
  o["applicationId"] = app.id;
  o["name"] = app.name;
  o["throttlingPolicy"] = app.throttling_policy;
  o["description"] = member_or(doc, "description", "");
  o["tokenType"] = app.token_type;
  o["status"] = app.status;
  o["groups"] = json::array{};
  o["subscriptionCount"] = subscriptions.count({app.id, "", ""});
  o["attributes"] = member_or(doc, "attributes", json::object{});
  o["owner"] = app.owner;
  if (with_keys) {
    o["keys"] = json::array{};  // the secrets are shown once, by generate-keys
    o["subscriptionScopes"] = json::array{};
    o["hashEnabled"] = true;
  }
  o["createdTime"] = std::to_string(app.created_time * 1000);
  o["updatedTime"] = std::to_string(app.updated_time * 1000);
  return o;
}

void DevPortalState::publish(std::string_view type, const json::object& payload) {
  bus.publish(std::string(type), json::serialize(payload));
}

// ---- self sign-up and throttling policies ------------------------------------------------

void register_signup_routes(DevPortalState& state, http::Router& router) {
  // The reference's identity server endpoint the portal's sign-up form posts to.
  router.add("POST", "/api/identity/user/v1.0/me", [&state](http::Request& request) {
    if (!state.config.security.self_signup) {
      throw ApiError::forbidden("Self sign-up is disabled on this node");
    }
    json::object body = json_body::parse_object(request.body);
    const json::object* user = json_body::optional_object(body, "user");
    if (!user) throw ApiError::bad_request("'user' is required");
    std::string username = json_body::required_string(*user, "username", 100);
    std::string password = json_body::required_string(*user, "password", 256);
    std::string realm = json_body::optional_string(*user, "realm", 64).value_or("PRIMARY");
    if (realm != "PRIMARY") throw ApiError::bad_request("'realm' must be PRIMARY");
    json::array claims;
    if (const json::array* sent = json_body::optional_array(*user, "claims")) {
      if (sent->size() > 50) throw ApiError::bad_request("'claims' holds more than 50 items");
      for (const auto& claim : *sent) {
        if (!claim.is_object()) throw ApiError::bad_request("'claims' items must be objects");
        json_body::required_string(claim.as_object(), "uri", 256);
        json_body::required_string(claim.as_object(), "value", 1024);
        claims.push_back(claim);
      }
    }
    // The only role sign-up grants; roles sent in the body are never read.
    state.km.users().create(username, password, {std::string(kRoleSubscriber)});
    json::object out{
        {"user", json::object{{"username", username}, {"realm", realm}, {"claims", claims}}},
        {"properties", json::array{}}};
    return json_response(201, out);
  });

  router.add("GET", std::string(kBasePath) + "/throttling-policies/{policyLevel}",
             [&state](http::Request& request) {
               const std::string& level = request.path_params["policyLevel"];
               admin::PolicyLevel which;
               if (level == "application") {
                 which = admin::PolicyLevel::application;
               } else if (level == "subscription") {
                 which = admin::PolicyLevel::subscription;
               } else {
                 throw ApiError::bad_request("policyLevel must be application or subscription");
               }
               http::Page page = http::read_page(request);
               json::array all = state.admin.policy_summaries(which);
               json::array list;
               for (std::int64_t i = page.offset;
                    i < static_cast<std::int64_t>(all.size()) && i < page.offset + page.limit;
                    ++i) {
                 list.push_back(all[static_cast<std::size_t>(i)]);
               }
               return json_response(200, http::list_envelope(std::move(list), page,
                                                             static_cast<std::int64_t>(all.size()),
                                                             "/throttling-policies/" + level));
             });
}

}  // namespace portico::devportal

namespace portico::devportal {

struct DevPortal::Impl {
  DevPortalState state;
};

DevPortal::DevPortal(const Config& config, store::Database& db, events::EventBus& bus,
                     keymanager::KeyManager& key_manager, admin::Admin& admin)
    : impl_(std::make_unique<Impl>(Impl{DevPortalState(config, db, bus, key_manager, admin)})) {}

DevPortal::~DevPortal() = default;

void DevPortal::register_routes(http::Router& router) {
  register_signup_routes(impl_->state, router);
  register_discovery_routes(impl_->state, router);
  register_application_routes(impl_->state, router);
  register_subscription_routes(impl_->state, router);
}

}  // namespace portico::devportal
