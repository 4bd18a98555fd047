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

// The keys of take_changes().
constexpr std::string_view kApiKey = "api:";
constexpr std::string_view kApplicationKey = "application:";
constexpr std::string_view kPoliciesKey = "policies";

// The names the policy lists carry in a journal entry.
const std::pair<std::string_view, json::array SnapshotSources::*> kPolicyLists[] = {
    {"subscription", &SnapshotSources::subscription_policies},
    {"application", &SnapshotSources::application_policies},
    {"advanced", &SnapshotSources::advanced_policies},
    {"deny", &SnapshotSources::deny_policies},
};

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
  // An item equal to the one held keeps it (and stays unchanged); the rest count as changed.
  ShardedMap<std::shared_ptr<const json::value>> artifacts;
  for (auto& artifact : sources.runtime_artifacts) {
    std::string id = string_field(artifact, "apiId");
    if (const auto* held = artifacts_.find(id); held != nullptr && **held == artifact) {
      artifacts.insert_or_assign(std::move(id), *held);
      continue;
    }
    changed_.insert(std::string(kApiKey) + id);
    artifacts.insert_or_assign(std::move(id),
                               std::make_shared<const json::value>(std::move(artifact)));
  }
  // Mappings and subscriptions go with their application, even one the lists do not have
  // (the builder keeps such subscriptions: the request path tells their state).
  std::map<std::string, ApplicationItems> grouped;
  for (auto& app : sources.applications)
    grouped[string_field(app, "id")].application = std::move(app);
  for (auto& mapping : sources.key_mappings)
    grouped[string_field(mapping, "applicationId")].key_mappings.push_back(std::move(mapping));
  for (auto& sub : sources.subscriptions)
    grouped[string_field(sub, "applicationId")].subscriptions.push_back(std::move(sub));
  ShardedMap<std::shared_ptr<const ApplicationItems>> applications;
  for (auto& [id, items] : grouped) {
    if (const auto* held = applications_.find(id); held != nullptr && **held == items) {
      applications.insert_or_assign(id, *held);
      continue;
    }
    changed_.insert(std::string(kApplicationKey) + id);
    applications.insert_or_assign(id, std::make_shared<const ApplicationItems>(std::move(items)));
  }
  // What the index held and the pull no longer lists is gone.
  artifacts_.for_each([&](const std::string& id, const auto&) {
    if (artifacts.find(id) == nullptr) changed_.insert(std::string(kApiKey) + id);
  });
  applications_.for_each([&](const std::string& id, const auto&) {
    if (applications.find(id) == nullptr) changed_.insert(std::string(kApplicationKey) + id);
  });
  artifacts_ = std::move(artifacts);
  applications_ = std::move(applications);
  sources.runtime_artifacts.clear();
  sources.applications.clear();
  sources.key_mappings.clear();
  sources.subscriptions.clear();
  if (sources.subscription_policies != policies_->subscription_policies ||
      sources.application_policies != policies_->application_policies ||
      sources.advanced_policies != policies_->advanced_policies ||
      sources.deny_policies != policies_->deny_policies)
    changed_.insert(std::string(kPoliciesKey));
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
    // A bundle of mappings and subscriptions alone (describe's shape for an application the
    // lists lack) has no application.
    if (object->empty()) items.application = nullptr;
  }
  applications_.insert_or_assign(id, std::make_shared<const ApplicationItems>(std::move(items)));
  changed_.insert(std::string(kApplicationKey) + id);
}

void SourceIndex::remove_application(std::string_view id) {
  applications_.erase(id);
  changed_.insert(std::string(kApplicationKey) + std::string(id));
}

void SourceIndex::set_artifact(const std::string& api_id, json::value artifact) {
  artifacts_.insert_or_assign(api_id, std::make_shared<const json::value>(std::move(artifact)));
  changed_.insert(std::string(kApiKey) + api_id);
}

void SourceIndex::remove_artifact(std::string_view api_id) {
  artifacts_.erase(api_id);
  changed_.insert(std::string(kApiKey) + std::string(api_id));
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
  changed_.insert(std::string(kPoliciesKey));
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

std::set<std::string> SourceIndex::take_changes() {
  return std::exchange(changed_, {});
}

json::array SourceIndex::describe(const std::set<std::string>& keys) const {
  json::array out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    std::string_view k = key;
    if (k == kPoliciesKey) {
      json::object lists;
      for (const auto& [name, member] : kPolicyLists) lists[name] = (*policies_).*member;
      out.push_back(json::object{{"policies", std::move(lists)}});
    } else if (k.starts_with(kApiKey)) {
      std::string_view id = k.substr(kApiKey.size());
      const auto* artifact = artifacts_.find(id);
      out.push_back(json::object{{"api", id}, {"artifact", artifact ? **artifact : json::value()}});
    } else if (k.starts_with(kApplicationKey)) {
      std::string_view id = k.substr(kApplicationKey.size());
      json::value bundle;
      if (const auto* items = applications_.find(id)) {
        json::object o =
            (*items)->application.is_object() ? (*items)->application.get_object() : json::object();
        o["keyMappings"] = (*items)->key_mappings;
        o["subscriptions"] = (*items)->subscriptions;
        bundle = std::move(o);
      }
      out.push_back(json::object{{"application", id}, {"items", std::move(bundle)}});
    }
  }
  return out;
}

bool SourceIndex::apply(const json::value& entry) {
  const json::object* o = entry.if_object();
  if (o == nullptr) return false;
  if (const auto* id = o->if_contains("api"); id != nullptr && id->is_string()) {
    const auto* artifact = o->if_contains("artifact");
    if (artifact == nullptr || !(artifact->is_null() || artifact->is_object())) return false;
    if (artifact->is_null())
      remove_artifact(id->get_string());
    else
      set_artifact(std::string(id->get_string()), *artifact);
    return true;
  }
  if (const auto* id = o->if_contains("application"); id != nullptr && id->is_string()) {
    const auto* items = o->if_contains("items");
    if (items == nullptr || !(items->is_null() || items->is_object())) return false;
    if (items->is_null())
      remove_application(id->get_string());
    else
      set_application(std::string(id->get_string()), *items);
    return true;
  }
  if (const auto* lists = o->if_contains("policies"); lists != nullptr && lists->is_object()) {
    SnapshotSources read;
    for (const auto& [name, member] : kPolicyLists) {
      const auto* list = lists->get_object().if_contains(name);
      if (list == nullptr || !list->is_array()) return false;
      read.*member = list->get_array();
    }
    set_policies(std::move(read.subscription_policies), std::move(read.application_policies),
                 std::move(read.advanced_policies), std::move(read.deny_policies));
    return true;
  }
  return false;
}

}  // namespace portico::gateway
