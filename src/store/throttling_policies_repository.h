#pragma once
// Throttling policies of the three levels (subscription, application, advanced). The name is
// unique per level; the policy's REST representation is stored whole in `document`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct ThrottlingPolicyRecord {
  std::string id;     // UUID
  std::string level;  // "subscription", "application" or "advanced"
  std::string name;
  std::string document;  // JSON
  std::int64_t created_time = 0;
};

// What deleting a policy found.
enum class PolicyRemoval { removed, not_found, in_use };

class ThrottlingPoliciesRepository {
 public:
  explicit ThrottlingPoliciesRepository(Database& db) : db_(db) {}

  // Throws ConflictError when the level already has a policy of that name (or the id is taken).
  void create(const ThrottlingPolicyRecord& policy);
  // Creates the policies of `seed` whose names the level does not hold yet, in one transaction;
  // returns how many were created.
  int create_missing(const std::vector<ThrottlingPolicyRecord>& seed);
  std::optional<ThrottlingPolicyRecord> find(const std::string& level, const std::string& id);
  std::optional<ThrottlingPolicyRecord> find_by_name(const std::string& level,
                                                     const std::string& name);
  // Every policy of a level, by name (a level holds tens of policies, not thousands).
  std::vector<ThrottlingPolicyRecord> list(const std::string& level);
  // Up to `limit` policies of a level with id > `after`, in id order (keyset paging).
  std::vector<ThrottlingPolicyRecord> list_after(const std::string& level, const std::string& after,
                                                 int limit);
  // Replaces name and document; false when there is no such policy. ConflictError when the
  // new name is taken.
  bool update(const ThrottlingPolicyRecord& policy);
  // Deletes the policy unless something uses it: a subscription or an API's offered tiers
  // (subscription level), an application (application level), an API's or operation's
  // throttling policy (advanced level). The check and the delete share one transaction.
  PolicyRemoval remove_unless_used(const std::string& level, const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store
