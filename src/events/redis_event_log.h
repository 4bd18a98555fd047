#pragma once
// The cluster's event log on Redis: one contiguous sequence for every producer, kept in a
// stream (`<prefix>:{events}:log`, entry ids "<sequence>-0"), with an epoch that changes
// whenever the log starts over (Redis lost its data, or a producer had to drop events).
//
// Producers append through a Lua script that takes the next number (INCR) and adds the
// entry (XADD) atomically, so two control planes never interleave a gap. publish() only
// appends to the node's outbox; a drainer thread moves the outbox to Redis whenever Redis
// answers. Each subscription has a consumer thread that reads the stream from its
// position and resets it (reload everything) on a gap, an epoch change or a position the
// log no longer keeps.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "events/event_bus.h"
#include "events/event_outbox.h"

namespace portico::events {

struct RedisLogOptions {
  std::string url = "redis://127.0.0.1:6379";
  std::string key_prefix = "portico";
  std::uint64_t retention = 100000;         // events the stream keeps (approximately, MAXLEN ~)
  std::chrono::milliseconds timeout{2000};  // connect and per-command limit
  std::chrono::milliseconds block{1000};    // how long a consumer's read waits for news
  std::chrono::milliseconds retry{250};     // pause before reaching Redis again
  std::size_t batch = 256;                  // events per script call or read
};

class RedisEventLog final : public EventBus {
 public:
  // Throws std::invalid_argument on a bad URL. Nothing is contacted until needed.
  RedisEventLog(RedisLogOptions options, std::unique_ptr<EventOutbox> outbox);
  ~RedisEventLog() override;  // stops and joins every thread
  RedisEventLog(const RedisEventLog&) = delete;
  RedisEventLog& operator=(const RedisEventLog&) = delete;

  // Returns 0. This node's listeners get the event at once (sequence 0) and again, numbered,
  // from the log.
  std::uint64_t publish(std::string type, std::string payload_json) override;
  // From the log's current end; a reset (Redis starting over) is not reported.
  void subscribe(Listener listener) override;
  void subscribe_from(LogPosition from, Listener listener, ResetListener on_reset) override;

  // Whether the drainer's last attempt reached Redis (readiness and metrics).
  bool reachable() const;
  // Events published here and not yet in the log.
  std::size_t pending();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::events
