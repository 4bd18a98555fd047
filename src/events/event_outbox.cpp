#include "events/event_outbox.h"

#include <algorithm>
#include <utility>

namespace portico::events {

MemoryOutbox::MemoryOutbox(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void MemoryOutbox::append(PendingEvent event) {
  std::lock_guard lock(mutex_);
  if (events_.size() == capacity_) {
    events_.pop_front();
    ++dropped_;
    overflow_ = true;
  }
  events_.push_back(std::move(event));
}

std::size_t MemoryOutbox::drain(std::size_t max, const Deliver& deliver) {
  std::vector<PendingEvent> batch;
  std::uint64_t dropped_before = 0;
  {
    std::lock_guard lock(mutex_);
    auto n = std::min(max, events_.size());
    batch.assign(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(n));
    dropped_before = dropped_;
  }
  if (batch.empty() || !deliver(batch)) return 0;
  // Delivery ran without the lock: events dropped meanwhile were the front of this batch.
  std::lock_guard lock(mutex_);
  auto dropped_meanwhile = dropped_ - dropped_before;
  auto remove = batch.size() > dropped_meanwhile ? batch.size() - dropped_meanwhile : 0;
  events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(remove));
  return batch.size();
}

bool MemoryOutbox::take_overflow() {
  std::lock_guard lock(mutex_);
  return std::exchange(overflow_, false);
}

std::size_t MemoryOutbox::size() {
  std::lock_guard lock(mutex_);
  return events_.size();
}

}  // namespace portico::events
