#pragma once
// Subscriptions of applications to APIs: one per application and API, with the tier
// (subscription throttling policy) and the status gateways enforce.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct SubscriptionRecord {
  std::string id;
  std::string application_id;
  std::string api_id;
  std::string throttling_policy;
  std::string status = "UNBLOCKED";
  std::int64_t created_time = 0;
  std::int64_t updated_time = 0;
};

// Which subscriptions a list reads: those of one application, or of one owner's
// applications (optionally to one API).
struct SubscriptionFilter {
  std::string application_id;  // empty: any
  std::string api_id;          // empty: any
  std::string owner;           // empty: any; otherwise only applications of this owner
};

class SubscriptionsRepository {
 public:
  explicit SubscriptionsRepository(Database& db) : db_(db) {}

  // ConflictError when the application already subscribes to the API.
  void create(const SubscriptionRecord& subscription);
  // All or nothing: ConflictError (nothing stored) when any of them is a duplicate.
  void create_all(const std::vector<SubscriptionRecord>& subscriptions);
  std::optional<SubscriptionRecord> find(const std::string& id);
  std::vector<SubscriptionRecord> list(const SubscriptionFilter& filter, std::int64_t limit,
                                       std::int64_t offset);
  std::int64_t count(const SubscriptionFilter& filter);
  // Replaces throttling policy, status and updated_time; false when there is none.
  bool update(const SubscriptionRecord& subscription);
  bool remove(const std::string& id);

 private:
  Database& db_;
};

}  // namespace portico::store
