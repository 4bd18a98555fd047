#pragma once
// Events a node has published but not yet handed to the cluster's event log. Publishing
// only appends here, so a REST write never waits for (or fails because of) Redis; the
// log's drainer empties the outbox whenever Redis answers.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace portico::events {

struct PendingEvent {
  std::string type;
  std::string payload_json;
  std::int64_t time = 0;  // unix seconds, when it was published
};

class EventOutbox {
 public:
  using Deliver = std::function<bool(const std::vector<PendingEvent>&)>;
  virtual ~EventOutbox() = default;
  virtual void append(PendingEvent event) = 0;
  // Hands the oldest pending events, at most `max`, to `deliver` in publication order and
  // removes them when it returns true (else they stay, for the next attempt). Returns how
  // many were delivered.
  virtual std::size_t drain(std::size_t max, const Deliver& deliver) = 0;
  // True once after events had to be dropped: consumers can no longer trust their
  // position and must be told to resync.
  virtual bool take_overflow() = 0;
  // Events waiting.
  virtual std::size_t size() = 0;
};

// Keeps at most `capacity` events in memory; when full, the oldest is dropped and the
// overflow is reported (the node's consumers then resync instead of missing a change).
class MemoryOutbox final : public EventOutbox {
 public:
  explicit MemoryOutbox(std::size_t capacity);
  void append(PendingEvent event) override;
  std::size_t drain(std::size_t max, const Deliver& deliver) override;
  bool take_overflow() override;
  std::size_t size() override;

 private:
  std::mutex mutex_;
  std::size_t capacity_;
  std::deque<PendingEvent> events_;
  std::uint64_t dropped_ = 0;  // ever dropped from the front, to find a batch again
  bool overflow_ = false;
};

}  // namespace portico::events
