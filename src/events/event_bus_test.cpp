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

}  // namespace portico::events
