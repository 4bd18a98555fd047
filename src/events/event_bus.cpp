#include "events/event_bus.h"

#include "common/clock.h"
#include "common/crypto.h"

namespace portico::events {

InProcessBus::InProcessBus() : epoch_(crypto::random_token(12)) {}

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

void InProcessBus::subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) {
  std::lock_guard lock(mutex_);
  LogPosition now{epoch_, sequence_};
  if (from != now) on_reset(now);
  listeners_.push_back(std::move(listener));
}

LogPosition InProcessBus::position() {
  std::lock_guard lock(mutex_);
  return {epoch_, sequence_};
}

}  // namespace portico::events
