#include "events/event_outbox.h"

#include <gtest/gtest.h>

namespace portico::events {
namespace {

PendingEvent event(std::string type) {
  return PendingEvent{std::move(type), "{}", 1};
}

std::vector<std::string> types_of(const std::vector<PendingEvent>& batch) {
  std::vector<std::string> out;
  for (auto& e : batch) out.push_back(e.type);
  return out;
}

TEST(MemoryOutbox, DrainsInPublicationOrderAndRemovesWhatWasDelivered) {
  MemoryOutbox outbox(10);
  for (auto t : {"a", "b", "c"}) outbox.append(event(t));
  std::vector<std::string> seen;
  EXPECT_EQ(outbox.drain(2,
                         [&](auto& batch) {
                           seen = types_of(batch);
                           return true;
                         }),
            2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(outbox.drain(10,
                         [&](auto& batch) {
                           seen = types_of(batch);
                           return true;
                         }),
            1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"c"}));
  EXPECT_EQ(outbox.size(), 0u);
}

TEST(MemoryOutbox, AFailedDeliveryKeepsTheEventsForTheNextAttempt) {
  MemoryOutbox outbox(10);
  outbox.append(event("a"));
  EXPECT_EQ(outbox.drain(10, [](auto&) { return false; }), 0u);
  EXPECT_EQ(outbox.size(), 1u);
  std::vector<std::string> seen;
  outbox.drain(10, [&](auto& batch) {
    seen = types_of(batch);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a"}));
}

TEST(MemoryOutbox, WhenFullDropsTheOldestAndReportsTheOverflowOnce) {
  MemoryOutbox outbox(2);
  for (auto t : {"a", "b", "c"}) outbox.append(event(t));
  EXPECT_TRUE(outbox.take_overflow());
  EXPECT_FALSE(outbox.take_overflow());
  std::vector<std::string> seen;
  outbox.drain(10, [&](auto& batch) {
    seen = types_of(batch);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "c"}));
}

TEST(MemoryOutbox, EventsDroppedDuringADeliveryAreNotRemovedTwice) {
  MemoryOutbox outbox(2);
  outbox.append(event("a"));
  outbox.append(event("b"));
  // While a and b are being delivered, c and d push them out.
  outbox.drain(2, [&](auto&) {
    outbox.append(event("c"));
    outbox.append(event("d"));
    return true;
  });
  std::vector<std::string> seen;
  outbox.drain(10, [&](auto& batch) {
    seen = types_of(batch);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"c", "d"}));
}

}  // namespace
}  // namespace portico::events
