#pragma once
// What the control plane's event stream serves: the log's latest events, kept in memory and
// followed once from the bus, so that any number of readers (gateways following the stream)
// resume from their position without a thread or a Redis connection each.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "events/event_bus.h"

namespace portico::events {

class EventFeed {
 public:
  // What a reader gets next: a reset (it cannot have every event after its position; it
  // reloads and continues after `reset`), then the events after its position, in order.
  struct Batch {
    std::optional<LogPosition> reset;
    std::vector<Event> events;
  };

  // One reader's place in the feed; unregisters when destroyed.
  class Reader {
   public:
    virtual ~Reader() = default;
    // Up to `max_events` after the reader's position (and advances it), or a reset; empty
    // when nothing is new, or the feed does not know the log's position yet.
    virtual Batch take(std::size_t max_events) = 0;
    // `wake` is called (from the bus's thread, quickly) whenever take() may have something new;
    // never after the reader is destroyed.
    virtual void on_change(std::function<void()> wake) = 0;
  };

  // Subscribes to `bus` at once; keeps the last `history` events.
  EventFeed(EventBus& bus, std::size_t history, std::size_t max_readers);
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // A reader positioned after `after` (empty: it is reset first); nullptr when `max_readers`
  // are open already.
  std::unique_ptr<Reader> open(LogPosition after);
  std::size_t readers() const;

  struct State;  // internal to event_feed.cpp

 private:
  std::shared_ptr<State> state_;
};

}  // namespace portico::events
