#include "events/event_feed.h"

#include <gtest/gtest.h>

#include <atomic>

namespace portico::events {
namespace {

TEST(EventFeedTest, ReaderFromNowhereIsResetToTheLogsPosition) {
  InProcessBus bus;
  bus.publish("a", "{}");
  EventFeed feed(bus, 10, 10);
  auto reader = feed.open({});
  auto batch = reader->take(100);
  ASSERT_TRUE(batch.reset);
  EXPECT_EQ(*batch.reset, bus.position());
  EXPECT_TRUE(batch.events.empty());
}

TEST(EventFeedTest, EventsAfterThePositionArriveInOrder) {
  InProcessBus bus;
  EventFeed feed(bus, 10, 10);
  LogPosition start = bus.position();
  bus.publish("a", "1");
  bus.publish("b", "2");
  auto reader = feed.open(start);
  auto batch = reader->take(100);
  EXPECT_FALSE(batch.reset);
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].type, "a");
  EXPECT_EQ(batch.events[1].sequence, start.sequence + 2);
  EXPECT_TRUE(reader->take(100).events.empty());
  bus.publish("c", "3");
  batch = reader->take(100);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].payload_json, "3");
}

TEST(EventFeedTest, TakeHandsOutAtMostTheAskedNumber) {
  InProcessBus bus;
  EventFeed feed(bus, 10, 10);
  auto reader = feed.open(bus.position());
  for (int i = 0; i < 5; ++i) bus.publish("e", "{}");
  EXPECT_EQ(reader->take(2).events.size(), 2u);
  EXPECT_EQ(reader->take(2).events.size(), 2u);
  EXPECT_EQ(reader->take(2).events.size(), 1u);
}

TEST(EventFeedTest, PositionOlderThanTheHistoryIsReset) {
  InProcessBus bus;
  EventFeed feed(bus, 3, 10);
  LogPosition start = bus.position();
  for (int i = 0; i < 5; ++i) bus.publish("e", "{}");
  auto batch = feed.open(start)->take(100);
  ASSERT_TRUE(batch.reset);
  EXPECT_EQ(*batch.reset, bus.position());
}

TEST(EventFeedTest, PositionOfAnotherEpochIsReset) {
  InProcessBus bus;
  EventFeed feed(bus, 10, 10);
  auto batch = feed.open({"another-epoch", 0})->take(100);
  ASSERT_TRUE(batch.reset);
  EXPECT_EQ(batch.reset->epoch, bus.position().epoch);
}

TEST(EventFeedTest, ReaderIsWokenByNewEvents) {
  InProcessBus bus;
  EventFeed feed(bus, 10, 10);
  auto reader = feed.open(bus.position());
  std::atomic<int> wakes{0};
  reader->on_change([&] { ++wakes; });
  bus.publish("e", "{}");
  EXPECT_EQ(wakes.load(), 1);
  reader.reset();
  bus.publish("e", "{}");  // a destroyed reader is never called
  EXPECT_EQ(wakes.load(), 1);
}

TEST(EventFeedTest, ReadersBeyondTheMaximumAreRefused) {
  InProcessBus bus;
  EventFeed feed(bus, 10, 2);
  auto a = feed.open({});
  auto b = feed.open({});
  EXPECT_EQ(feed.open({}), nullptr);
  a.reset();
  EXPECT_NE(feed.open({}), nullptr);
}

TEST(EventFeedTest, NodesOwnUnnumberedEventsAreNotServed) {
  // A Redis log hands its node's own events at once with sequence 0, then again numbered.
  struct Forward : EventBus {
    EventBus::Listener listener;
    std::uint64_t publish(std::string, std::string) override { return 0; }
    void subscribe(Listener) override {}
    void subscribe_from(LogPosition, Listener l, ResetListener r) override {
      listener = std::move(l);
      r({"ep", 4});
    }
  } log;
  EventFeed own(log, 10, 10);
  auto reader = own.open({"ep", 4});
  log.listener(Event{0, "local", "{}", 0});
  log.listener(Event{5, "numbered", "{}", 0});
  auto batch = reader->take(10);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].type, "numbered");
}

}  // namespace
}  // namespace portico::events
