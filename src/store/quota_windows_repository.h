#pragma once
// Counts of long throttling windows (an hour or longer), kept so that day and month quotas
// survive a restart: an all-in-one node stores its own counters, traffic managers theirs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct QuotaWindow {
  std::string counter_key;  // 16 hex digits
  std::int64_t window_ms = 0;
  std::int64_t window_index = 0;
  std::int64_t used = 0;
  std::int64_t limit_amount = 0;  // 0: unknown
};

class QuotaWindowsRepository {
 public:
  explicit QuotaWindowsRepository(Database& db) : db_(db) {}

  // Upserts each window keeping the larger `used` (and the given limit); one transaction.
  // Counts only grow within a window, so the larger one is the newer, whichever writer
  // (a node's flush, a traffic manager) stored it last.
  void save_greatest(const std::vector<QuotaWindow>& windows);
  // The stored count of one window, nullopt when none is stored.
  std::optional<std::int64_t> used(const std::string& counter_key, std::int64_t window_ms,
                                   std::int64_t window_index);
  // Windows that have not ended at now_ms (window_end_ms > now_ms).
  std::vector<QuotaWindow> open_windows(std::int64_t now_ms);
  // Deletes windows that ended before now_ms; returns how many.
  std::size_t purge_ended(std::int64_t now_ms);

 private:
  Database& db_;
};

}  // namespace portico::store
