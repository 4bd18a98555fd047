#pragma once
// Gateway environments: a unique name (what deployments refer to) and the REST
// representation (display name, description, vhosts) stored whole in `document`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct EnvironmentRecord {
  std::string id;  // UUID
  std::string name;
  std::string document;  // JSON
  std::int64_t created_time = 0;
};

enum class EnvironmentRemoval { removed, not_found, in_use };

class EnvironmentsRepository {
 public:
  explicit EnvironmentsRepository(Database& db) : db_(db) {}

  // Throws ConflictError when the name (or id) is taken.
  void create(const EnvironmentRecord& environment);
  // Creates it unless an environment of that name exists; true when created.
  bool create_if_missing(const EnvironmentRecord& environment);
  std::optional<EnvironmentRecord> find(const std::string& id);
  std::optional<EnvironmentRecord> find_by_name(const std::string& name);
  // Every environment, by name.
  std::vector<EnvironmentRecord> list();
  // Up to `limit` environments with id > `after`, in id order (keyset paging).
  std::vector<EnvironmentRecord> list_after(const std::string& after, int limit);
  // Replaces the document (the name never changes); false when there is no such environment.
  bool update_document(const std::string& id, const std::string& document);
  // Deletes it unless an API is deployed to it (same transaction).
  EnvironmentRemoval remove_unless_used(const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store
