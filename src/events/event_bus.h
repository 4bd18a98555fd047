#pragma once
// Events that tell gateways what changed (deployments, subscriptions, revocations...).
// The in-process bus serves the all-in-one node; a Redis bus implements the same
// interface for distributed deployments.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace portico::events {

struct Event {
  std::uint64_t sequence = 0;  // increases by one per published event
  std::string type;            // e.g. "token.revoked"
  std::string payload_json;
  std::int64_t time = 0;  // unix seconds
};

class EventBus {
 public:
  using Listener = std::function<void(const Event&)>;
  virtual ~EventBus() = default;
  // Publishes and returns the sequence number given to the event.
  virtual std::uint64_t publish(std::string type, std::string payload_json) = 0;
  // Listeners added before an event is published receive it.
  virtual void subscribe(Listener listener) = 0;
};

// Delivers each event synchronously, in sequence order, to every listener; listeners
// must be quick (they copy what they need and return).
class InProcessBus final : public EventBus {
 public:
  std::uint64_t publish(std::string type, std::string payload_json) override;
  void subscribe(Listener listener) override;

 private:
  std::mutex mutex_;
  std::uint64_t sequence_ = 0;
  std::vector<Listener> listeners_;
};

}  // namespace portico::events
