#pragma once
// The event log's outbox in the cluster's database (store::EventOutboxRepository), for
// nodes that have one: events published while Redis is down survive a restart, and any
// node may deliver them. It never drops events, so it never reports an overflow.
#include "events/event_outbox.h"
#include "store/event_outbox_repository.h"

namespace portico {

class DatabaseOutbox final : public events::EventOutbox {
 public:
  explicit DatabaseOutbox(store::Database& db) : rows_(db) {}
  void append(events::PendingEvent event) override;
  std::size_t drain(std::size_t max, const Deliver& deliver) override;
  bool take_overflow() override { return false; }
  std::size_t size() override { return rows_.size(); }

 private:
  store::EventOutboxRepository rows_;
};

}  // namespace portico
