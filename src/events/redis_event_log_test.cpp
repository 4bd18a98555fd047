#include "events/redis_event_log.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>

#include "events/redis_connection.h"
#include "events/redis_test_server.h"

namespace portico::events {
namespace {

using namespace std::chrono_literals;

// What a subscriber saw, read from the test thread.
struct Seen {
  std::mutex mutex;
  std::vector<Event> events;
  std::vector<LogPosition> resets;

  EventBus::Listener listener() {
    return [this](const Event& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
    };
  }
  EventBus::ResetListener on_reset() {
    return [this](const LogPosition& p) {
      std::lock_guard lock(mutex);
      resets.push_back(p);
    };
  }
  bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard lock(mutex);
        if (done()) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

class RedisEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available()) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(redis.start());
  }

  std::unique_ptr<RedisEventLog> log(std::size_t outbox_capacity = 1000,
                                     std::uint64_t retention = 100000) {
    RedisLogOptions o;
    o.url = redis.url();
    o.timeout = 300ms;
    o.block = 200ms;
    o.retry = 50ms;
    o.retention = retention;
    return std::make_unique<RedisEventLog>(o, std::make_unique<MemoryOutbox>(outbox_capacity));
  }

  // Subscribes from the log's current end and waits until the subscriber knows it.
  LogPosition subscribe_now(RedisEventLog& log, Seen& seen) {
    log.subscribe_from({}, seen.listener(), seen.on_reset());
    EXPECT_TRUE(seen.wait_for([&] { return !seen.resets.empty(); }));
    std::lock_guard lock(seen.mutex);
    return seen.resets.back();
  }

  std::string current_epoch() {
    RedisConnection c(RedisAddress{"127.0.0.1", redis.port(), "", 0}, 1000ms);
    EXPECT_TRUE(c.ensure_connected());
    auto r = c.command({"GET", "portico:{events}:epoch"});
    return r && r->str ? std::string(r->str, r->len) : "";
  }

  testing::RedisTestServer redis;
};

TEST_F(RedisEventLogTest, PublishedEventsReachASubscriberInOrderWithTheirContent) {
  auto producer = log();
  auto consumer = log();
  Seen seen;
  auto start = subscribe_now(*consumer, seen);
  producer->publish("subscription.created", R"({"subscription_id":"s1"})");
  producer->publish("token.revoked", R"({"jti":"j1"})");
  ASSERT_TRUE(seen.wait_for([&] { return seen.events.size() == 2; }));
  EXPECT_EQ(seen.events[0].sequence, start.sequence + 1);
  EXPECT_EQ(seen.events[1].sequence, start.sequence + 2);
  EXPECT_EQ(seen.events[0].type, "subscription.created");
  EXPECT_EQ(seen.events[1].payload_json, R"({"jti":"j1"})");
  EXPECT_GT(seen.events[0].time, 0);
}

// A database outbox while its database is away: every read throws until `available`.
class FlakyOutbox final : public EventOutbox {
 public:
  std::atomic<bool> available{false};
  void append(PendingEvent event) override { events_.append(std::move(event)); }
  std::size_t drain(std::size_t max, const Deliver& deliver) override {
    check();
    return events_.drain(max, deliver);
  }
  bool take_overflow() override {
    check();
    return events_.take_overflow();
  }
  std::size_t size() override {
    check();
    return events_.size();
  }

 private:
  void check() {
    if (!available) throw std::runtime_error("the database is unavailable");
  }
  MemoryOutbox events_{100};
};

TEST_F(RedisEventLogTest, AnOutboxThatFailsDelaysItsEventsAndEndsNothing) {
  RedisLogOptions o;
  o.url = redis.url();
  o.retry = 50ms;
  o.block = 200ms;
  auto flaky = std::make_unique<FlakyOutbox>();
  auto* outbox = flaky.get();
  RedisEventLog producer(o, std::move(flaky));
  auto consumer = log();
  Seen seen;
  subscribe_now(*consumer, seen);
  producer.publish("subscription.created", "{}");
  std::this_thread::sleep_for(300ms);  // several failed drains
  outbox->available = true;
  ASSERT_TRUE(seen.wait_for([&] { return seen.events.size() == 1; }));
  EXPECT_EQ(seen.events[0].type, "subscription.created");
}

TEST_F(RedisEventLogTest, TwoProducersShareOneContiguousSequence) {
  auto a = log();
  auto b = log();
  auto consumer = log();
  Seen seen;
  auto start = subscribe_now(*consumer, seen);
  for (int i = 0; i < 100; ++i) (i % 2 ? a : b)->publish("x", std::to_string(i));
  ASSERT_TRUE(seen.wait_for([&] { return seen.events.size() == 100; }));
  for (std::size_t i = 0; i < seen.events.size(); ++i)
    EXPECT_EQ(seen.events[i].sequence, start.sequence + 1 + i);
  EXPECT_EQ(seen.resets.size(), 1u);  // only the initial one
}

TEST_F(RedisEventLogTest, PublishingWhileRedisIsDownNeitherFailsNorLosesEvents) {
  redis.stop();
  auto producer = log();
  for (int i = 0; i < 5; ++i) producer->publish("subscription.created", std::to_string(i));
  EXPECT_EQ(producer->pending(), 5u);
  EXPECT_FALSE(producer->reachable());

  ASSERT_TRUE(redis.start());
  Seen probe;
  ASSERT_TRUE(probe.wait_for([&] { return producer->pending() == 0; }));
  // A consumer that starts from the beginning of this epoch reads all five, in order.
  auto consumer = log();
  Seen seen;
  consumer->subscribe_from(LogPosition{current_epoch(), 0}, seen.listener(), seen.on_reset());
  ASSERT_TRUE(seen.wait_for([&] { return seen.events.size() == 5; }));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seen.events[i].payload_json, std::to_string(i));
  EXPECT_TRUE(seen.resets.empty());
}

TEST_F(RedisEventLogTest, ThisNodesListenersGetItsEventsEvenWhileRedisIsDown) {
  auto node = log();
  Seen seen;
  subscribe_now(*node, seen);
  redis.stop();
  node->publish("subscription.created", R"({"subscription_id":"s1"})");
  std::lock_guard lock(seen.mutex);
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_EQ(seen.events[0].type, "subscription.created");
  EXPECT_EQ(seen.events[0].sequence, 0u);
}

TEST_F(RedisEventLogTest, ARedisThatStartsOverEmptyResetsItsConsumersWithANewEpoch) {
  auto producer = log();
  auto consumer = log();
  Seen seen;
  auto before = subscribe_now(*consumer, seen);
  producer->publish("a", "{}");
  ASSERT_TRUE(seen.wait_for([&] { return seen.events.size() == 1; }));

  redis.stop();
  ASSERT_TRUE(redis.start());
  producer->publish("b", "{}");
  ASSERT_TRUE(seen.wait_for([&] { return seen.resets.size() == 2; }));
  EXPECT_NE(seen.resets[1].epoch, before.epoch);
}

TEST_F(RedisEventLogTest, APositionTheLogNoLongerKeepsResetsTheConsumer) {
  auto producer = log(1000, /*retention=*/10);
  for (int i = 0; i < 600; ++i) producer->publish("x", "{}");
  Seen waiting;
  ASSERT_TRUE(waiting.wait_for([&] { return producer->pending() == 0; }));

  auto late = log();
  Seen seen;
  late->subscribe_from(LogPosition{current_epoch(), 1}, seen.listener(), seen.on_reset());
  ASSERT_TRUE(seen.wait_for([&] { return seen.resets.size() == 1; }));
  EXPECT_EQ(seen.resets[0].sequence, 600u);
  EXPECT_TRUE(seen.events.empty());
}

TEST_F(RedisEventLogTest, EventsDroppedFromAFullOutboxMakeEveryConsumerReload) {
  auto producer = log(/*outbox_capacity=*/3);
  auto consumer = log();
  Seen seen;
  auto before = subscribe_now(*consumer, seen);

  redis.freeze();  // unreachable, data kept
  for (int i = 0; i < 10; ++i) producer->publish("x", std::to_string(i));
  redis.thaw();
  ASSERT_TRUE(seen.wait_for([&] { return seen.resets.size() >= 2; }));
  EXPECT_NE(seen.resets.back().epoch, before.epoch);
}

TEST(RedisUrl, ReadsHostPortPasswordAndDatabase) {
  auto a = parse_redis_url("redis://:s3cret@cache.example:6380/2");
  EXPECT_EQ(a.host, "cache.example");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.password, "s3cret");
  EXPECT_EQ(a.db, 2);
  auto b = parse_redis_url("redis://[::1]:7000");
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 7000);
  auto c = parse_redis_url("redis://localhost");
  EXPECT_EQ(c.host, "localhost");
  EXPECT_EQ(c.port, 6379);
}

TEST(RedisUrl, RefusesWhatIsNotARedisUrl) {
  EXPECT_THROW(parse_redis_url("http://localhost:6379"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://localhost:99999"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://[::1"), std::invalid_argument);
}

}  // namespace
}  // namespace portico::events
