#pragma once
// The cluster's outbox of events on their way to the event log: kept in the shared
// database, so that an event published while Redis is down survives the node that
// published it and any node can deliver it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct OutboxRow {
  std::int64_t id = 0;
  std::string type;
  std::string payload;
  std::int64_t published_at = 0;
};

class EventOutboxRepository {
 public:
  explicit EventOutboxRepository(Database& db) : db_(db) {}
  void append(const std::string& type, const std::string& payload, std::int64_t published_at);
  // Takes the oldest rows (at most `max`, in id order, skipping rows another node is
  // delivering) and hands them to `deliver` inside one transaction; they are deleted when
  // it returns true. Returns how many were delivered.
  std::size_t drain(std::size_t max,
                    const std::function<bool(const std::vector<OutboxRow>&)>& deliver);
  std::size_t size();

 private:
  Database& db_;
};

}  // namespace portico::store
