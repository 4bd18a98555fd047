#pragma once
// Events that tell gateways and other nodes what changed (deployments, subscriptions,
// revocations...). The in-process bus serves the all-in-one node; the Redis event log
// (redis_event_log.h) implements the same interface for a cluster.
//
// Consumers are level-triggered: an event names what changed by id and the consumer
// re-reads that item, so duplicates and the order across producers do not matter. What
// matters is not missing one: a consumer that cannot be sure it saw every event since its
// position (a gap, a new epoch, a position older than the log keeps) is told to reset, and
// then reloads everything.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace portico::events {

struct Event {
  std::uint64_t sequence = 0;  // increases by one per published event, cluster-wide
  std::string type;            // e.g. "token.revoked"
  std::string payload_json;
  std::int64_t time = 0;  // unix seconds
};

// Where a consumer stands in a log: the log's epoch (a new one whenever the log starts
// over, so that sequence numbers of two lifetimes are never compared) and the sequence of
// the last event it applied.
struct LogPosition {
  std::string epoch;
  std::uint64_t sequence = 0;
  bool operator==(const LogPosition&) const = default;
};

class EventBus {
 public:
  using Listener = std::function<void(const Event&)>;
  // The events after `from` cannot all be delivered: reload everything, then expect the
  // events after the position given here.
  using ResetListener = std::function<void(const LogPosition& from)>;
  virtual ~EventBus() = default;
  // Publishes; returns the event's sequence when it is known at once, else 0 (the event is
  // queued and gets its number when it reaches the log). Never waits for another server.
  virtual std::uint64_t publish(std::string type, std::string payload_json) = 0;
  // Listeners added before an event is published receive it.
  virtual void subscribe(Listener listener) = 0;
  // Delivers every event after `from`; when that is not possible (or `from` is empty),
  // calls `on_reset` first with the position to continue from.
  virtual void subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) = 0;
};

// Delivers each event synchronously, in sequence order, to every listener; listeners
// must be quick (they copy what they need and return). It keeps no history: a consumer
// that asks for events it has not seen is reset.
class InProcessBus final : public EventBus {
 public:
  InProcessBus();
  std::uint64_t publish(std::string type, std::string payload_json) override;
  void subscribe(Listener listener) override;
  void subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) override;
  LogPosition position();

 private:
  std::mutex mutex_;
  std::string epoch_;
  std::uint64_t sequence_ = 0;
  std::vector<Listener> listeners_;
};

}  // namespace portico::events
