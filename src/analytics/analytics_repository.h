#pragma once
// The analytics_rollups, analytics_batches (migration 0006) and analytics_received_batches
// (migration 0014) tables. Kept in src/analytics, not src/store: nothing else reads them.
// Internal to src/analytics.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/rollup.h"

namespace portico::store {
class Database;
}

namespace portico::analytics {

enum class GroupBy { api, application, resource, status, minute, node };

struct RollupQuery {
  std::int64_t from_minute = 0;  // unix seconds, inclusive
  std::int64_t to_minute = 0;    // unix seconds, exclusive
  GroupBy group_by = GroupBy::api;
  std::optional<std::string> api_id;
  std::optional<std::string> application_id;
  std::optional<std::string> application_owner;  // the ownership filter of subscribers
  std::optional<std::string> node_id;
};

// One group of a query: the key carries the grouped fields only (the others are empty / 0).
struct RollupGroup {
  RollupKey key;
  RollupCounters totals;
};

class AnalyticsRepository {
 public:
  explicit AnalyticsRepository(store::Database& db) : db_(db) {}

  // Adds `rollups` to the stored rows and records `batch_id`, in one transaction. False, and
  // nothing added, when that batch was added before. Throws what the database throws
  // (store::UnavailableError, soci::soci_error).
  bool add_batch(const std::string& batch_id, const RollupMap& rollups, std::int64_t now_seconds);
  // The same for a batch a gateway sent: once per (node_id, batch_id), the batch ids of
  // different gateways being independent.
  bool add_received_batch(const std::string& node_id, const std::string& batch_id,
                          const RollupMap& rollups, std::int64_t now_seconds);

  // The totals of each group in the query's range, in no particular order.
  std::vector<RollupGroup> query(const RollupQuery& query);

 private:
  store::Database& db_;
};

}  // namespace portico::analytics
