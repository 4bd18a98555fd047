#include "app/database_outbox.h"

namespace portico {

void DatabaseOutbox::append(events::PendingEvent event) {
  rows_.append(event.type, event.payload_json, event.time);
}

std::size_t DatabaseOutbox::drain(std::size_t max, const Deliver& deliver) {
  return rows_.drain(max, [&](const std::vector<store::OutboxRow>& rows) {
    std::vector<events::PendingEvent> batch;
    batch.reserve(rows.size());
    for (auto& r : rows) batch.push_back({r.type, r.payload, r.published_at});
    return deliver(batch);
  });
}

}  // namespace portico
