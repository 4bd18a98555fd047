// Deny policies (blocking conditions): /throttling/deny-policies and /throttling/deny-policy/{id}.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_internal.h"
#include "admin/validation.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "events/event_types.h"

namespace portico::admin {

namespace json = boost::json;

json::object deny_policy_json(const store::DenyPolicyRecord& record) {
  return json::object{{"conditionId", record.id},
                      {"conditionType", record.condition_type},
                      {"conditionValue", json::parse(record.condition_value)},
                      {"conditionStatus", record.enabled}};
}

void Admin::Impl::add_deny_policy_routes(http::Router& router) {
  const std::string collection = std::string(kAdminBase) + "/throttling/deny-policies";
  const std::string item = std::string(kAdminBase) + "/throttling/deny-policy";

  auto find_or_404 = [this](const http::Request& request) {
    const std::string& id = request.path_params.at("conditionId");
    std::optional<store::DenyPolicyRecord> record;
    if (id.size() <= 64) record = deny_policies.find(id);
    if (!record) throw ApiError::not_found("no deny policy with id '" + id + "'");
    return *record;
  };
  auto event = [this](std::string_view type, const store::DenyPolicyRecord& r) {
    publish(type,
            json::object{
                {"policy_id", r.id}, {"condition_type", r.condition_type}, {"enabled", r.enabled}});
  };

  router.add("GET", collection, guarded([this](http::Request& request) {
               authorize(request, "apim:bl_view");
               json::array list;
               for (const auto& record : deny_policies.list())
                 list.push_back(deny_policy_json(record));
               json::object body{{"count", list.size()}, {"list", std::move(list)}};
               return json_response(200, body);
             }));

  router.add("POST", collection, guarded([this, item, event](http::Request& request) {
               authorize(request, "apim:bl_manage");
               json::object body = json_body::parse_object(request.body);
               DenyCondition condition = validate_deny_condition(body);
               store::DenyPolicyRecord record{
                   crypto::uuid_v4(), condition.type, json::serialize(condition.value),
                   json_body::optional_bool(body, "conditionStatus").value_or(true), unix_now()};
               try {
                 deny_policies.create(record);
               } catch (const store::ConflictError&) {
                 throw ApiError::conflict("a deny policy with this " + condition.type +
                                          " condition already exists");
               }
               event(events::types::kDenyPolicyCreated, record);
               auto response = json_response(201, deny_policy_json(record));
               response.headers.set("Location", item + "/" + record.id);
               return response;
             }));

  router.add("GET", item + "/{conditionId}", guarded([this, find_or_404](http::Request& request) {
               authorize(request, "apim:bl_view");
               return json_response(200, deny_policy_json(find_or_404(request)));
             }));

  router.add("PATCH", item + "/{conditionId}",
             guarded([this, find_or_404, event](http::Request& request) {
               authorize(request, "apim:bl_manage");
               auto record = find_or_404(request);
               json::object body = json_body::parse_object(request.body);
               auto status = json_body::optional_bool(body, "conditionStatus");
               if (!status) throw ApiError::bad_request("'conditionStatus' is required");
               if (!deny_policies.set_enabled(record.id, *status))
                 throw ApiError::not_found("no deny policy with id '" + record.id + "'");
               record.enabled = *status;
               event(events::types::kDenyPolicyUpdated, record);
               return json_response(200, deny_policy_json(record));
             }));

  router.add("DELETE", item + "/{conditionId}",
             guarded([this, find_or_404, event](http::Request& request) {
               authorize(request, "apim:bl_manage");
               auto record = find_or_404(request);
               if (!deny_policies.remove(record.id))
                 throw ApiError::not_found("no deny policy with id '" + record.id + "'");
               event(events::types::kDenyPolicyDeleted, record);
               return empty_ok();
             }));
}

}  // namespace portico::admin
