#include "events/event_bus.h"

#include <gtest/gtest.h>

namespace portico::events {

TEST(InProcessBus, DeliversEventsToListenersWithIncreasingSequence) {
  InProcessBus bus;
  std::vector<Event> seen;
  bus.subscribe([&](const Event& e) { seen.push_back(e); });
  auto first = bus.publish("token.revoked", R"({"jti":"a"})");
  auto second = bus.publish("token.revoked", R"({"jti":"b"})");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(first + 1, second);
  EXPECT_EQ(seen[0].sequence, first);
  EXPECT_EQ(seen[1].payload_json, R"({"jti":"b"})");
  EXPECT_GT(seen[0].time, 0);
}

TEST(InProcessBus, ASubscriberAtTheCurrentPositionIsNotReset) {
  InProcessBus bus;
  bus.publish("a", "{}");
  int resets = 0;
  std::vector<std::uint64_t> seen;
  bus.subscribe_from(
      bus.position(), [&](const Event& e) { seen.push_back(e.sequence); },
      [&](const LogPosition&) { ++resets; });
  bus.publish("b", "{}");
  EXPECT_EQ(resets, 0);
  EXPECT_EQ(seen, std::vector<std::uint64_t>{2});
}

TEST(InProcessBus, ASubscriberThatMissedEventsOrComesFromAnotherEpochIsReset) {
  InProcessBus bus;
  auto before = bus.position();
  bus.publish("a", "{}");
  std::vector<LogPosition> resets;
  bus.subscribe_from(
      before, [](const Event&) {}, [&](const LogPosition& p) { resets.push_back(p); });
  bus.subscribe_from(
      LogPosition{"another-epoch", 1}, [](const Event&) {},
      [&](const LogPosition& p) { resets.push_back(p); });
  ASSERT_EQ(resets.size(), 2u);
  EXPECT_EQ(resets[0], bus.position());
  EXPECT_EQ(resets[1], bus.position());
}

}  // namespace portico::events
