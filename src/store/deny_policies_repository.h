#pragma once
// Deny policies (the reference's blocking conditions): a condition type, its value in a
// canonical JSON text, and whether it is enabled.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct DenyPolicyRecord {
  std::string id;               // UUID
  std::string condition_type;   // API, APPLICATION, IP, IPRANGE, USER
  std::string condition_value;  // canonical JSON text (a string or an object)
  bool enabled = true;
  std::int64_t created_time = 0;
};

class DenyPoliciesRepository {
 public:
  explicit DenyPoliciesRepository(Database& db) : db_(db) {}

  // Throws ConflictError when the same condition already exists.
  void create(const DenyPolicyRecord& policy);
  std::optional<DenyPolicyRecord> find(const std::string& id);
  // Every policy, oldest first.
  std::vector<DenyPolicyRecord> list();
  // Up to `limit` policies with id > `after`, in id order (keyset paging).
  std::vector<DenyPolicyRecord> list_after(const std::string& after, int limit);
  // False when there is no such policy.
  bool set_enabled(const std::string& id, bool enabled);
  bool remove(const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store
