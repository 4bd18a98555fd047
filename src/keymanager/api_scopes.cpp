#include "keymanager/api_scopes.h"

#include <algorithm>
#include <iterator>

namespace portico::keymanager {

std::optional<std::vector<std::string>> strictest_roles(
    const std::vector<std::vector<std::string>>& definitions) {
  if (definitions.empty()) return std::nullopt;
  std::optional<std::vector<std::string>> common;
  for (const auto& definition : definitions) {
    if (definition.empty()) continue;
    std::vector<std::string> roles = definition;
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

std::optional<std::vector<std::string>> ApiScopes::roles(const std::string& scope) {
  if (auto cached = cache_.get(scope)) return *cached;
  std::uint64_t generation = generation_.load();
  auto roles = strictest_roles(repository_.definitions(scope));
  if (generation_.load() == generation) cache_.put(scope, roles);
  return roles;
}

}  // namespace portico::keymanager
