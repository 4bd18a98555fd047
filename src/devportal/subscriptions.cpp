// Subscriptions of the caller's applications to APIs. The tier must be one the API offers
// and the API must accept subscriptions (PUBLISHED or PROTOTYPED).
#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "devportal/devportal_impl.h"
#include "events/event_types.h"
#include "http/paging.h"

namespace portico::devportal {
namespace {

namespace types = events::types;

constexpr std::size_t kMaxBatch = 100;

std::string sub_path(std::string_view tail = "") {
  return std::string(kBasePath) + "/subscriptions" + std::string(tail);
}

json::object sub_event(const store::SubscriptionRecord& sub) {
  return {{"subscription_id", sub.id},
          {"api_id", sub.api_id},
          {"application_id", sub.application_id},
          {"throttling_policy", sub.throttling_policy},
          {"status", sub.status}};
}

// The Subscription shape, given its API's APIInfo and its application's (null when gone).
json::object sub_json_of(const store::SubscriptionRecord& sub, json::value api_info,
                         json::value application_info) {
  json::object o;
  o["subscriptionId"] = sub.id;
  o["applicationId"] = sub.application_id;
  o["apiId"] = sub.api_id;
  o["apiInfo"] = std::move(api_info);
  o["applicationInfo"] = std::move(application_info);
  o["throttlingPolicy"] = sub.throttling_policy;
  o["requestedThrottlingPolicy"] = sub.throttling_policy;
  o["status"] = sub.status;
  o["redirectionParams"] = nullptr;
  return o;
}

json::object sub_json(DevPortalState& s, const store::SubscriptionRecord& sub) {
  auto api = s.catalog.find(sub.api_id);
  auto app = s.applications.find(sub.application_id);
  return sub_json_of(sub, api ? json::value(s.api_info(*api)) : json::value(nullptr),
                     app ? json::value(s.application_json(*app, false)) : nullptr);
}

// A list page's items: the APIs and their tiers and ratings are read once for the page, and
// each application once, rather than four queries per subscription.
json::array sub_json_page(DevPortalState& s, const std::vector<store::SubscriptionRecord>& subs) {
  std::vector<std::string> api_ids;
  for (const auto& sub : subs) api_ids.push_back(sub.api_id);
  std::sort(api_ids.begin(), api_ids.end());
  api_ids.erase(std::unique(api_ids.begin(), api_ids.end()), api_ids.end());
  std::vector<store::CatalogApi> apis = s.catalog.find_all(api_ids);
  std::vector<json::object> infos = s.api_infos(apis);
  std::map<std::string, json::value> api_info, app_info;
  for (std::size_t i = 0; i < apis.size(); ++i) api_info[apis[i].id] = std::move(infos[i]);
  json::array out;
  for (const auto& sub : subs) {
    auto app = app_info.find(sub.application_id);
    if (app == app_info.end()) {
      auto found = s.applications.find(sub.application_id);
      app = app_info
                .emplace(sub.application_id,
                         found ? json::value(s.application_json(*found, false)) : nullptr)
                .first;
    }
    auto api = api_info.find(sub.api_id);
    out.push_back(
        sub_json_of(sub, api == api_info.end() ? json::value(nullptr) : api->second, app->second));
  }
  return out;
}

// The tier must be one the API offers (400 otherwise, naming the offered ones).
void check_tier(DevPortalState& s, const store::CatalogApi& api, const std::string& tier) {
  auto offered = s.catalog.subscription_policies(api.id);
  if (std::find(offered.begin(), offered.end(), tier) != offered.end()) return;
  std::string names;
  for (const auto& o : offered) names += (names.empty() ? "" : ", ") + o;
  throw ApiError::bad_request("API '" + api.name + "' does not offer the tier '" + tier +
                              "' (offered: " + names + ")");
}

// A new subscription from one request object, fully checked; nothing is stored.
store::SubscriptionRecord new_subscription(DevPortalState& s, const json::object& body,
                                           const keymanager::Principal& caller) {
  std::string app_id = json_body::required_string(body, "applicationId", 64);
  std::string api_id = json_body::required_string(body, "apiId", 64);
  std::string tier = json_body::required_string(body, "throttlingPolicy", 256);
  auto app = s.owned_application(app_id, caller.username);
  auto api = s.visible_api(api_id, caller);
  if (api.lifecycle_status != "PUBLISHED" && api.lifecycle_status != "PROTOTYPED") {
    throw ApiError::bad_request("API '" + api.name + "' is " + api.lifecycle_status +
                                " and cannot be subscribed to");
  }
  check_tier(s, api, tier);
  store::SubscriptionRecord sub;
  sub.id = crypto::uuid_v4();
  sub.application_id = app.id;
  sub.api_id = api.id;
  sub.throttling_policy = tier;
  sub.status = "UNBLOCKED";
  sub.created_time = sub.updated_time = unix_now();
  return sub;
}

// The caller's subscription, or 404.
store::SubscriptionRecord owned_subscription(DevPortalState& s, const std::string& id,
                                             const std::string& owner) {
  auto sub = s.subscriptions.find(id);
  if (!sub || !s.applications.find_owned(sub->application_id, owner)) {
    throw ApiError::not_found("Subscription with id '" + id + "' not found");
  }
  return *sub;
}

}  // namespace

void register_subscription_routes(DevPortalState& state, http::Router& router) {
  auto& s = state;

  router.add("GET", sub_path(), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    http::Page page = http::read_page(request);
    store::SubscriptionFilter filter;
    filter.owner = caller.username;
    std::string query;
    if (auto app_id = request.query_param("applicationId")) {
      filter.application_id = s.owned_application(*app_id, caller.username).id;
      query = "applicationId=" + filter.application_id;
    }
    if (auto api_id = request.query_param("apiId")) {
      filter.api_id = s.visible_api(*api_id, caller).id;
      query += (query.empty() ? "apiId=" : "&apiId=") + filter.api_id;
    }
    json::array list = sub_json_page(s, s.subscriptions.list(filter, page.limit, page.offset));
    return json_response(200,
                         http::list_envelope(std::move(list), page, s.subscriptions.count(filter),
                                             "/subscriptions", query));
  });

  router.add("POST", sub_path(), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubManage);
    json::object body = json_body::parse_object(request.body);
    store::SubscriptionRecord sub = new_subscription(s, body, caller);
    try {
      s.subscriptions.create(sub);
    } catch (const store::ConflictError&) {
      throw ApiError::conflict("The application is already subscribed to this API");
    }
    s.publish(types::kSubscriptionCreated, sub_event(sub));
    http::Response response = json_response(201, sub_json(s, sub));
    response.headers.set("Location", sub_path("/" + sub.id));
    return response;
  });

  router.add("POST", sub_path("/multiple"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubManage);
    json::parse_options options;
    options.max_depth = json_body::kMaxDepth;
    boost::system::error_code ec;
    json::value body = json::parse(request.body, ec, {}, options);
    if (ec || !body.is_array()) {
      throw ApiError::bad_request("The body must be a JSON array of subscriptions");
    }
    if (body.as_array().empty() || body.as_array().size() > kMaxBatch) {
      throw ApiError::bad_request("The array must hold 1 to 100 subscriptions");
    }
    std::vector<store::SubscriptionRecord> subs;
    for (const auto& item : body.as_array()) {
      if (!item.is_object()) throw ApiError::bad_request("Each subscription must be an object");
      subs.push_back(new_subscription(s, item.as_object(), caller));
    }
    try {
      s.subscriptions.create_all(subs);
    } catch (const store::ConflictError&) {
      throw ApiError::conflict("An application is already subscribed to one of these APIs");
    }
    json::array out;
    for (const auto& sub : subs) {
      s.publish(types::kSubscriptionCreated, sub_event(sub));
      out.push_back(sub_json(s, sub));
    }
    return json_response(200, out);
  });

  router.add("GET", sub_path("/{subscriptionId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubscribe);
    auto sub = owned_subscription(s, request.path_params["subscriptionId"], caller.username);
    return json_response(200, sub_json(s, sub));
  });

  router.add("PUT", sub_path("/{subscriptionId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubManage);
    auto sub = owned_subscription(s, request.path_params["subscriptionId"], caller.username);
    json::object body = json_body::parse_object(request.body);
    // applicationId and apiId cannot move a subscription; when sent they must match.
    for (auto [field, current] :
         {std::pair<std::string_view, std::string*>{"applicationId", &sub.application_id},
          {"apiId", &sub.api_id}}) {
      if (auto sent = json_body::optional_string(body, field, 64); sent && *sent != *current) {
        throw ApiError::bad_request("'" + std::string(field) + "' of a subscription cannot change");
      }
    }
    std::string tier = json_body::required_string(body, "throttlingPolicy", 256);
    auto api = s.catalog.find(sub.api_id);
    if (!api) throw ApiError::not_found("The subscribed API no longer exists");
    check_tier(s, *api, tier);
    sub.throttling_policy = tier;
    sub.updated_time = unix_now();
    if (!s.subscriptions.update(sub)) throw ApiError::not_found("Subscription not found");
    s.publish(types::kSubscriptionUpdated, sub_event(sub));
    return json_response(200, sub_json(s, sub));
  });

  router.add("DELETE", sub_path("/{subscriptionId}"), [&s](http::Request& request) {
    auto caller = s.km.authorize(request, kScopeSubManage);
    auto sub = owned_subscription(s, request.path_params["subscriptionId"], caller.username);
    if (!s.subscriptions.remove(sub.id)) throw ApiError::not_found("Subscription not found");
    s.publish(types::kSubscriptionDeleted, sub_event(sub));
    return http::Response::json(200, "");
  });
}

}  // namespace portico::devportal
