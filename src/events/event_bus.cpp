#include "events/event_bus.h"

#include "common/clock.h"

namespace portico::events {

std::uint64_t InProcessBus::publish(std::string type, std::string payload_json) {
  // Holding the lock while delivering keeps events in sequence order for every listener.
  std::lock_guard lock(mutex_);
  Event event{++sequence_, std::move(type), std::move(payload_json), unix_now()};
  for (auto& listener : listeners_) listener(event);
  return event.sequence;
}

void InProcessBus::subscribe(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

}  // namespace portico::events
