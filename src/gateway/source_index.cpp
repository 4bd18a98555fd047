#include "gateway/source_index.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

namespace portico::gateway {
namespace {

namespace json = boost::json;

std::string string_field(const json::value& item, std::string_view key) {
  if (!item.is_object()) return {};
  const json::value* v = item.get_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The entries of `map` sorted by key.
template <class Value>
std::vector<std::pair<std::string_view, const Value*>> in_key_order(const ShardedMap<Value>& map) {
  std::vector<std::pair<std::string_view, const Value*>> out;
  out.reserve(map.size());
  map.for_each([&](const std::string& key, const Value& value) { out.emplace_back(key, &value); });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void SourceIndex::reset(SnapshotSources sources) {
  artifacts_.clear();
  applications_.clear();
  for (auto& artifact : sources.runtime_artifacts) {
    std::string id = string_field(artifact, "apiId");
    artifacts_.insert_or_assign(std::move(id),
                                std::make_shared<const json::value>(std::move(artifact)));
  }
  // Mappings and subscriptions go with their application, even one the lists do not have
  // (the builder keeps such subscriptions: the request path tells their state).
  std::map<std::string, ApplicationItems> applications;
  for (auto& app : sources.applications)
    applications[string_field(app, "id")].application = std::move(app);
  for (auto& mapping : sources.key_mappings)
    applications[string_field(mapping, "applicationId")].key_mappings.push_back(std::move(mapping));
  for (auto& sub : sources.subscriptions)
    applications[string_field(sub, "applicationId")].subscriptions.push_back(std::move(sub));
  for (auto& [id, items] : applications)
    applications_.insert_or_assign(id, std::make_shared<const ApplicationItems>(std::move(items)));
  sources.runtime_artifacts.clear();
  sources.applications.clear();
  sources.key_mappings.clear();
  sources.subscriptions.clear();
  policies_ = std::make_shared<const SnapshotSources>(std::move(sources));
}

void SourceIndex::set_application(const std::string& id, const json::value& bundle) {
  ApplicationItems items;
  items.application = bundle;
  if (auto* object = items.application.if_object()) {
    for (auto [key, list] : {std::pair{"keyMappings", &items.key_mappings},
                             std::pair{"subscriptions", &items.subscriptions}}) {
      if (auto* found = object->if_contains(key); found != nullptr && found->is_array())
        *list = std::move(found->get_array());
      object->erase(key);
    }
  }
  applications_.insert_or_assign(id, std::make_shared<const ApplicationItems>(std::move(items)));
}

void SourceIndex::remove_application(std::string_view id) {
  applications_.erase(id);
}

void SourceIndex::set_artifact(const std::string& api_id, json::value artifact) {
  artifacts_.insert_or_assign(api_id, std::make_shared<const json::value>(std::move(artifact)));
}

void SourceIndex::remove_artifact(std::string_view api_id) {
  artifacts_.erase(api_id);
}

void SourceIndex::set_policies(json::array subscription, json::array application,
                               json::array advanced, json::array deny) {
  auto next = std::make_shared<SnapshotSources>();
  next->environment = policies_->environment;
  next->subscription_policies = std::move(subscription);
  next->application_policies = std::move(application);
  next->advanced_policies = std::move(advanced);
  next->deny_policies = std::move(deny);
  policies_ = std::move(next);
}

SnapshotSources SourceIndex::sources() const {
  SnapshotSources out = *policies_;
  for (const auto& [id, artifact] : in_key_order(artifacts_))
    out.runtime_artifacts.push_back(**artifact);
  for (const auto& [id, items] : in_key_order(applications_)) {
    if (!(*items)->application.is_null()) out.applications.push_back((*items)->application);
    for (const auto& mapping : (*items)->key_mappings) out.key_mappings.push_back(mapping);
    for (const auto& sub : (*items)->subscriptions) out.subscriptions.push_back(sub);
  }
  return out;
}

}  // namespace portico::gateway
