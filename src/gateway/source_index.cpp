#include "gateway/source_index.h"

#include <boost/json.hpp>

namespace portico::gateway {
namespace {

namespace json = boost::json;

std::string string_field(const json::value& item, std::string_view key) {
  if (!item.is_object()) return {};
  const json::value* v = item.get_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

void SourceIndex::reset(SnapshotSources sources) {
  artifacts_.clear();
  applications_.clear();
  for (auto& artifact : sources.runtime_artifacts) {
    std::string id = string_field(artifact, "apiId");
    artifacts_.insert_or_assign(std::move(id), std::move(artifact));
  }
  for (auto& app : sources.applications)
    applications_[string_field(app, "id")].application = std::move(app);
  // Mappings and subscriptions go with their application, even one the lists do not have
  // (the builder keeps such subscriptions: the request path tells their state).
  for (auto& mapping : sources.key_mappings)
    applications_[string_field(mapping, "applicationId")].key_mappings.push_back(
        std::move(mapping));
  for (auto& sub : sources.subscriptions)
    applications_[string_field(sub, "applicationId")].subscriptions.push_back(std::move(sub));
  sources.runtime_artifacts.clear();
  sources.applications.clear();
  sources.key_mappings.clear();
  sources.subscriptions.clear();
  policies_ = std::move(sources);
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
  applications_.insert_or_assign(id, std::move(items));
}

void SourceIndex::remove_application(std::string_view id) {
  if (auto it = applications_.find(id); it != applications_.end()) applications_.erase(it);
}

void SourceIndex::set_artifact(const std::string& api_id, json::value artifact) {
  artifacts_.insert_or_assign(api_id, std::move(artifact));
}

void SourceIndex::remove_artifact(std::string_view api_id) {
  if (auto it = artifacts_.find(api_id); it != artifacts_.end()) artifacts_.erase(it);
}

void SourceIndex::set_policies(json::array subscription, json::array application,
                               json::array advanced, json::array deny) {
  policies_.subscription_policies = std::move(subscription);
  policies_.application_policies = std::move(application);
  policies_.advanced_policies = std::move(advanced);
  policies_.deny_policies = std::move(deny);
}

SnapshotSources SourceIndex::sources() const {
  SnapshotSources out = policies_;
  for (const auto& [id, artifact] : artifacts_) out.runtime_artifacts.push_back(artifact);
  for (const auto& [id, items] : applications_) {
    if (!items.application.is_null()) out.applications.push_back(items.application);
    for (const auto& mapping : items.key_mappings) out.key_mappings.push_back(mapping);
    for (const auto& sub : items.subscriptions) out.subscriptions.push_back(sub);
  }
  return out;
}

}  // namespace portico::gateway
