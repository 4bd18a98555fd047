#include "publisher/scope_index.h"

#include <algorithm>

namespace portico::publisher {

std::string ScopeIndex::owner_of(const std::string& api_name, const std::string& provider) {
  // A newline appears in neither an API name nor a user name.
  return api_name + "\n" + provider;
}

void ScopeIndex::set(const std::string& api_id, const std::string& owner, const Bindings& scopes) {
  std::lock_guard lock(mutex_);
  erase_locked(api_id);
  by_api_[api_id] = scopes;
  for (const auto& [name, roles] : scopes) by_scope_[name][api_id] = Definition{owner, roles};
}

void ScopeIndex::erase(const std::string& api_id) {
  std::lock_guard lock(mutex_);
  erase_locked(api_id);
}

void ScopeIndex::erase_locked(const std::string& api_id) {
  auto it = by_api_.find(api_id);
  if (it == by_api_.end()) return;
  for (const auto& [name, roles] : it->second) {
    auto scope = by_scope_.find(name);
    if (scope == by_scope_.end()) continue;
    scope->second.erase(api_id);
    if (scope->second.empty()) by_scope_.erase(scope);
  }
  by_api_.erase(it);
}

std::optional<std::vector<std::string>> ScopeIndex::roles(const std::string& scope) const {
  std::lock_guard lock(mutex_);
  auto it = by_scope_.find(scope);
  if (it == by_scope_.end()) return std::nullopt;
  std::optional<std::vector<std::string>> common;
  for (const auto& [api, definition] : it->second) {
    if (definition.roles.empty()) continue;
    std::vector<std::string> roles = definition.roles;
    std::sort(roles.begin(), roles.end());
    if (!common) {
      common = std::move(roles);
      continue;
    }
    std::vector<std::string> both;
    std::set_intersection(common->begin(), common->end(), roles.begin(), roles.end(),
                          std::back_inserter(both));
    common = std::move(both);
  }
  if (!common) return std::vector<std::string>{};
  if (common->empty()) return std::vector<std::string>{kNoRole};
  return common;
}

bool ScopeIndex::taken_by_other(const std::string& scope, const std::string& owner) const {
  std::lock_guard lock(mutex_);
  auto it = by_scope_.find(scope);
  if (it == by_scope_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const auto& entry) { return entry.second.owner != owner; });
}

}  // namespace portico::publisher
