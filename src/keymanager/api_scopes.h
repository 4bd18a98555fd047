#pragma once
// Which roles may have a scope an API defines, read from the cluster's database (any
// publisher may have written it) and kept briefly: the token endpoint asks on every request.
// An event (events::types::kApiScopesChanged) empties the cache on every node.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keymanager/expiring_cache.h"
#include "store/api_scopes_repository.h"

namespace portico::keymanager {

// The role that nobody holds (role names are never empty): what the roles of a scope no one
// may be granted hold.
inline constexpr const char* kNoRole = "";

// The roles a scope defined by several APIs (versions, or definitions stored before names
// were unique) is open to: the strictest wins. A definition without bindings does not open a
// scope another binds, and a role must be in every definition's bindings ({kNoRole} when
// none is). Empty: any role. nullopt when no API defines it (`definitions` is empty).
std::optional<std::vector<std::string>> strictest_roles(
    const std::vector<std::vector<std::string>>& definitions);

class ApiScopes {
 public:
  ApiScopes(store::Database& db, std::chrono::seconds cache_ttl)
      : repository_(db), cache_(cache_ttl) {}

  // The roles `scope` is bound to (empty: any role); nullopt when no API defines it.
  std::optional<std::vector<std::string>> roles(const std::string& scope);
  // Forgets every cached answer: an API's scopes changed somewhere in the cluster.
  void invalidate() {
    ++generation_;
    cache_.clear();
  }

 private:
  store::ApiScopesRepository repository_;
  ExpiringCache<std::string, std::optional<std::vector<std::string>>> cache_;
  // Bumped by invalidate(): an answer read from the database before a change is not cached.
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace portico::keymanager
