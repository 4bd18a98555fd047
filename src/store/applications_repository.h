#pragma once
// The developer portal's applications and their OAuth key mappings (one client of the Key
// Manager per application and key type).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct ApplicationRecord {
  std::string id;
  std::string name;
  std::string owner;
  std::string throttling_policy;
  std::string token_type = "JWT";  // JWT or OAUTH
  std::string status = "APPROVED";
  std::string document = "{}";  // description and attributes, as JSON
  std::int64_t created_time = 0;
  std::int64_t updated_time = 0;
};

struct KeyMappingRecord {
  std::string id;
  std::string application_id;
  std::string key_type;  // PRODUCTION or SANDBOX
  std::string client_id;
  std::string document = "{}";  // keyManager, mode
  std::int64_t created_time = 0;
};

class ApplicationsRepository {
 public:
  explicit ApplicationsRepository(Database& db) : db_(db) {}

  // ConflictError when the owner already has an application of that name (or the id exists).
  void create(const ApplicationRecord& application);
  std::optional<ApplicationRecord> find(const std::string& id);
  // The application when `owner` owns it: other users' applications do not exist for them.
  std::optional<ApplicationRecord> find_owned(const std::string& id, const std::string& owner);
  // One page of the owner's applications by name; `name_filter` (empty: all) is a substring.
  std::vector<ApplicationRecord> list_owned(const std::string& owner,
                                            const std::string& name_filter, std::int64_t limit,
                                            std::int64_t offset);
  std::int64_t count_owned(const std::string& owner, const std::string& name_filter);
  // Replaces name, throttling policy, token type, document and updated_time; false when
  // there is no such application. ConflictError on a name the owner already uses.
  bool update(const ApplicationRecord& application);
  // Deletes the application with its subscriptions and key mappings in one transaction.
  bool remove(const std::string& id);

  // ConflictError when the application already has keys of that type (or the client is
  // mapped elsewhere).
  void add_key_mapping(const KeyMappingRecord& mapping);
  std::vector<KeyMappingRecord> key_mappings(const std::string& application_id);
  std::optional<KeyMappingRecord> find_key_mapping(const std::string& application_id,
                                                   const std::string& key_mapping_id);
  bool remove_key_mapping(const std::string& key_mapping_id);

 private:
  Database& db_;
};

}  // namespace portico::store
