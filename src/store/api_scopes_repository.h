#pragma once
// The scopes APIs define, shared by the cluster: which API (owner) a scope name belongs to,
// and the roles each definition binds it to.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/database.h"

namespace portico::store {

// One scope of one API: its name and the roles bound to it (empty: any role).
using ScopeBindings = std::vector<std::pair<std::string, std::vector<std::string>>>;

class ApiScopesRepository {
 public:
  explicit ApiScopesRepository(Database& db) : db_(db) {}

  // Stores `scopes` as the scopes of `api_id` (owned by `owner`), unless a scope name outside
  // `kept` is defined by an API of another owner: then nothing changes and that name is
  // returned. Serialised across the cluster, so two nodes cannot both take a free name.
  std::optional<std::string> claim(const std::string& api_id, const std::string& owner,
                                   const ScopeBindings& scopes,
                                   const std::vector<std::string>& kept);
  // Stores `scopes` as the scopes of `api_id`, without any check; returns how many scopes it
  // had before.
  int replace(const std::string& api_id, const std::string& owner, const ScopeBindings& scopes);
  // Stores the scopes of `api_id` only when it has none stored (filling the table from APIs
  // written before it existed; several nodes may do it at once).
  void insert_if_none(const std::string& api_id, const std::string& owner,
                      const ScopeBindings& scopes);
  // Returns how many scopes `api_id` had.
  int remove(const std::string& api_id);
  // The role bindings of every API that defines `scope`, one entry per API.
  std::vector<std::vector<std::string>> definitions(const std::string& scope);

 private:
  Database& db_;
};

}  // namespace portico::store
