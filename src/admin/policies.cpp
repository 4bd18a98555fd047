// Throttling policies: /throttling/policies/{subscription,application,advanced}.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_internal.h"
#include "admin/validation.h"
#include "common/api_error.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json_body.h"
#include "common/log.h"
#include "events/event_types.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

constexpr std::int64_t kUnlimitedRequests = 2147483647;  // the reference's "Unlimited" count
constexpr std::size_t kMaxIdLength = 64;

struct Seed {
  const char* name;
  std::int64_t requests_per_minute;
  const char* description;
};

json::object seed_document(PolicyLevel level, const Seed& seed) {
  json::object doc{
      {"policyName", seed.name},
      {"displayName", seed.name},
      {"description", seed.description},
      {"defaultLimit",
       json::object{{"type", "REQUESTCOUNTLIMIT"},
                    {"requestCount", json::object{{"timeUnit", "min"},
                                                  {"unitTime", 1},
                                                  {"requestCount", seed.requests_per_minute}}}}}};
  if (level == PolicyLevel::subscription) {
    doc["rateLimitCount"] = 0;
    doc["stopOnQuotaReach"] = true;
    doc["billingPlan"] = "FREE";
  }
  if (level == PolicyLevel::advanced) doc["conditionalGroups"] = json::array{};
  return doc;
}

// The reference's default policies (its tiers.xml / default throttle policies).
const std::vector<std::pair<PolicyLevel, std::vector<Seed>>>& seeds() {
  static const std::vector<std::pair<PolicyLevel, std::vector<Seed>>> table = {
      {PolicyLevel::subscription,
       {{"Bronze", 1000, "Allows 1000 requests per minute"},
        {"Silver", 2000, "Allows 2000 requests per minute"},
        {"Gold", 5000, "Allows 5000 requests per minute"},
        {"Unlimited", kUnlimitedRequests, "Allows unlimited requests"}}},
      {PolicyLevel::application,
       {{"10PerMin", 10, "Allows 10 requests per minute"},
        {"20PerMin", 20, "Allows 20 requests per minute"},
        {"50PerMin", 50, "Allows 50 requests per minute"},
        {"Unlimited", kUnlimitedRequests, "Allows unlimited requests"}}},
      {PolicyLevel::advanced,
       {{"10KPerMin", 10000, "Allows 10000 requests per minute"},
        {"20KPerMin", 20000, "Allows 20000 requests per minute"},
        {"50KPerMin", 50000, "Allows 50000 requests per minute"},
        {"Unlimited", kUnlimitedRequests, "Allows unlimited requests"}}},
  };
  return table;
}

}  // namespace

// The REST representation: the stored document plus its id and the read-only fields.
json::object policy_json(PolicyLevel level, const store::ThrottlingPolicyRecord& record) {
  json::object out{{"policyId", record.id}};
  json::value doc = json::parse(record.document);
  for (auto& [key, value] : doc.as_object()) out[key] = value;
  out["type"] = policy_type(level);
  out["isDeployed"] = true;
  return out;
}

void Admin::Impl::seed_policies() {
  for (const auto& [level, level_seeds] : seeds()) {
    std::string level_text(level_name(level));
    // Only into an empty level: a default an admin deleted stays deleted across restarts.
    if (!policies.list(level_text).empty()) continue;
    std::vector<store::ThrottlingPolicyRecord> records;
    for (const auto& seed : level_seeds) {
      records.push_back({crypto::uuid_v4(), level_text, seed.name,
                         json::serialize(seed_document(level, seed)), unix_now()});
    }
    try {
      int created = policies.create_missing(records);
      if (created > 0) spdlog::info("seeded {} default {} policies", created, level_text);
    } catch (const store::ConflictError&) {
      // Another node seeded the same level at the same moment.
    }
  }
}

void Admin::Impl::add_policy_routes(http::Router& router) {
  for (PolicyLevel level :
       {PolicyLevel::subscription, PolicyLevel::application, PolicyLevel::advanced}) {
    const std::string level_text(level_name(level));
    const std::string base = std::string(kAdminBase) + "/throttling/policies/" + level_text;

    auto find_or_404 = [this, level_text](const http::Request& request) {
      const std::string& id = request.path_params.at("policyId");
      std::optional<store::ThrottlingPolicyRecord> record;
      if (id.size() <= kMaxIdLength) record = policies.find(level_text, id);
      if (!record) throw ApiError::not_found("no " + level_text + " policy with id '" + id + "'");
      return *record;
    };
    auto event = [this, level_text](std::string_view type, const store::ThrottlingPolicyRecord& r) {
      publish(type, json::object{{"level", level_text}, {"policy_id", r.id}, {"name", r.name}});
    };

    router.add("GET", base, guarded([this, level, level_text](http::Request& request) {
                 authorize(request, "apim:tier_view");
                 json::array list;
                 for (const auto& record : policies.list(level_text)) {
                   json::object item = policy_json(level, record);
                   // The reference lists advanced policies as AdvancedThrottlePolicyInfo,
                   // without their conditional groups; GET by id has them.
                   if (level == PolicyLevel::advanced) item.erase("conditionalGroups");
                   list.push_back(std::move(item));
                 }
                 json::object body{{"count", list.size()}, {"list", std::move(list)}};
                 return json_response(200, body);
               }));

    router.add("POST", base,
               guarded([this, level, level_text, base, event](http::Request& request) {
                 authorize(request, "apim:tier_manage");
                 json::object doc = validate_policy(level, json_body::parse_object(request.body));
                 store::ThrottlingPolicyRecord record{crypto::uuid_v4(), level_text,
                                                      std::string(doc.at("policyName").as_string()),
                                                      json::serialize(doc), unix_now()};
                 try {
                   policies.create(record);
                 } catch (const store::ConflictError&) {
                   throw ApiError::conflict("a " + level_text + " policy named '" + record.name +
                                            "' already exists");
                 }
                 event(events::types::kPolicyCreated, record);
                 auto response = json_response(201, policy_json(level, record));
                 response.headers.set("Location", base + "/" + record.id);
                 return response;
               }));

    router.add("GET", base + "/{policyId}",
               guarded([this, level, find_or_404](http::Request& request) {
                 authorize(request, "apim:tier_view");
                 return json_response(200, policy_json(level, find_or_404(request)));
               }));

    router.add("PUT", base + "/{policyId}",
               guarded([this, level, find_or_404, event](http::Request& request) {
                 authorize(request, "apim:tier_manage");
                 auto record = find_or_404(request);
                 json::object doc = validate_policy(level, json_body::parse_object(request.body));
                 // Subscriptions, applications and APIs refer to a policy by name.
                 if (doc.at("policyName").as_string() != record.name)
                   throw ApiError::bad_request("'policyName' cannot be changed (it is '" +
                                               record.name + "')");
                 record.document = json::serialize(doc);
                 if (!policies.update(record))
                   throw ApiError::not_found("no policy with id '" + record.id + "'");
                 event(events::types::kPolicyUpdated, record);
                 return json_response(200, policy_json(level, record));
               }));

    router.add("DELETE", base + "/{policyId}",
               guarded([this, level_text, find_or_404, event](http::Request& request) {
                 authorize(request, "apim:tier_manage");
                 auto record = find_or_404(request);
                 switch (policies.remove_unless_used(level_text, record.id)) {
                   case store::PolicyRemoval::not_found:
                     throw ApiError::not_found("no policy with id '" + record.id + "'");
                   case store::PolicyRemoval::in_use:
                     throw ApiError::conflict("the " + level_text + " policy '" + record.name +
                                              "' is in use and cannot be deleted");
                   case store::PolicyRemoval::removed:
                     break;
                 }
                 event(events::types::kPolicyDeleted, record);
                 return empty_ok();
               }));
  }
}

}  // namespace portico::admin
