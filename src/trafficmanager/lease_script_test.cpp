// The lease rule against a real redis-server.
#include "trafficmanager/lease_script.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "events/redis_test_server.h"

namespace portico::trafficmanager {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'800'000'000'000;  // unix ms
constexpr std::int64_t kTtl = 10'000;

CounterAsk counter(std::int64_t limit, std::int64_t want, std::int64_t overdraft = 0,
                   std::int64_t give_back = 0) {
  CounterAsk c;
  c.key = "9f86d081884c7d65";
  c.window_ms = 60'000;
  c.window = kNow / c.window_ms;
  c.limit = limit;
  c.want = want;
  c.overdraft = overdraft;
  c.give_back = give_back;
  return c;
}

class LeaseScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!events::testing::redis_server_available()) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(server.start());
  }

  // One call by `gateway` about one counter.
  CounterGrant call(const std::string& gateway, const CounterAsk& c, std::int64_t seed = -1,
                    bool ended = false, std::int64_t now = kNow) {
    auto result = script.run(redis, keys, gateway, now, kTtl, {{&c, seed, ended}});
    EXPECT_TRUE(result);
    last_members = result ? result->members : 0;
    return result ? result->grants.at(0) : CounterGrant{};
  }

  events::Reply command(const std::vector<std::string>& args) {
    EXPECT_TRUE(redis.ensure_connected());
    return redis.command(args);
  }
  bool throttled(const CounterAsk& c) {
    auto r = command({"ZSCORE", keys.throttled, c.id()});
    return r && r->type == REDIS_REPLY_STRING;
  }

  events::testing::RedisTestServer server;
  events::RedisConnection redis{events::RedisAddress{"127.0.0.1", server.port(), "", 0}, 1000ms};
  RedisKeys keys{"test"};
  LeaseScript script;
  std::int64_t last_members = 0;
};

TEST_F(LeaseScriptTest, GrantsAHalfOfWhatRemainsSharedByTheMembers) {
  EXPECT_EQ(call("gw1", counter(100, 80)).granted, 50);  // ceil(100 / (2 * 1))
  EXPECT_EQ(last_members, 1);
  CounterGrant second = call("gw2", counter(100, 80));
  EXPECT_EQ(last_members, 2);
  EXPECT_EQ(second.granted, 13);  // ceil(50 / (2 * 2))
  EXPECT_EQ(second.reserved, 63);
  EXPECT_EQ(second.until, 0);
}

TEST_F(LeaseScriptTest, GrantsNoMoreThanWanted) {
  CounterGrant g = call("gw1", counter(100, 7));
  EXPECT_EQ(g.granted, 7);
  EXPECT_EQ(g.reserved, 7);
}

TEST_F(LeaseScriptTest, GrantsTheLastTokenToo) {
  call("gw1", counter(10, 0, 9));
  call("gw2", counter(10, 0));
  call("gw3", counter(10, 0));
  CounterGrant g = call("gw1", counter(10, 5));  // ceil(1 / (2 * 3))
  EXPECT_EQ(g.granted, 1);
  EXPECT_EQ(g.reserved, 10);
}

TEST_F(LeaseScriptTest, GrantsAcrossGatewaysSumToExactlyTheLimit) {
  std::int64_t total = 0;
  for (int round = 0; round < 40; ++round)
    for (const char* gateway : {"gw1", "gw2", "gw3"})
      total += call(gateway, counter(1000, 400)).granted;
  EXPECT_EQ(total, 1000);
}

TEST_F(LeaseScriptTest, AddsOverdraftUnconditionallyAndSubtractsReturns) {
  EXPECT_EQ(call("gw1", counter(10, 0, 15)).reserved, 15);  // beyond the limit: it happened
  EXPECT_EQ(call("gw1", counter(10, 0, 0, 8)).reserved, 7);
  EXPECT_EQ(call("gw1", counter(10, 0, 0, 100)).reserved, 0);  // never below zero
}

TEST_F(LeaseScriptTest, ASpentCounterEntersTheThrottledSetOnceAndLeavesItOnAReturn) {
  CounterAsk c = counter(4, 4);
  call("gw1", counter(4, 0, 3));
  auto first = script.run(redis, keys, "gw1", kNow, kTtl, {{&c, -1, false}});
  ASSERT_TRUE(first);
  CounterGrant spent = first->grants.at(0);
  EXPECT_EQ(spent.granted, 1);
  EXPECT_EQ(spent.reserved, 4);
  EXPECT_EQ(spent.until, c.window_end_ms());
  EXPECT_TRUE(spent.exhausted_now);
  EXPECT_TRUE(throttled(c));

  CounterGrant again = call("gw2", counter(4, 3));
  EXPECT_EQ(again.granted, 0);
  EXPECT_FALSE(again.exhausted_now);  // it was spent before this call
  EXPECT_EQ(again.until, c.window_end_ms());

  CounterGrant returned = call("gw1", counter(4, 0, 0, 1));
  EXPECT_EQ(returned.reserved, 3);
  EXPECT_EQ(returned.until, 0);
  EXPECT_FALSE(throttled(c));
}

TEST_F(LeaseScriptTest, ACounterWhoseWindowEndedLeavesTheThrottledSet) {
  CounterAsk c = counter(2, 0, 2);
  call("gw1", c);
  ASSERT_TRUE(throttled(c));
  CounterAsk later = counter(10, 1);
  later.key = "0000000000000002";
  later.window = c.window + 1;
  call("gw1", later, -1, false, c.window_end_ms() + 1);
  EXPECT_FALSE(throttled(c));
}

TEST_F(LeaseScriptTest, TheCounterKeyExpiresAMinuteAfterItsWindowEnds) {
  CounterAsk c = counter(10, 1);
  call("gw1", c);
  auto ttl = command({"PTTL", keys.counter(c)});
  ASSERT_TRUE(ttl);
  // Counted from the time the call gives, less what passed since on this clock.
  EXPECT_LE(ttl->integer, c.window_end_ms() + 60'000 - kNow);
  EXPECT_GT(ttl->integer, c.window_end_ms() + 50'000 - kNow);
}

TEST_F(LeaseScriptTest, AnEndedWindowGrantsNothingAndChangesNothing) {
  CounterAsk c = counter(10, 5, 3);
  CounterGrant g = call("gw1", c, 7, true);
  EXPECT_EQ(g.granted, 0);
  EXPECT_EQ(g.reserved, 0);
  EXPECT_EQ(g.until, 0);
  auto exists = command({"EXISTS", keys.counter(c)});
  EXPECT_EQ(exists->integer, 0);
}

TEST_F(LeaseScriptTest, ALongWindowMissingFromRedisStartsFromItsSeed) {
  CounterAsk c = counter(100, 10);
  c.window_ms = 86'400'000;
  c.window = kNow / c.window_ms;
  CounterGrant seeded = call("gw1", c, 95);
  EXPECT_EQ(seeded.granted, 3);  // ceil(5 / 2)
  EXPECT_EQ(seeded.reserved, 98);
  // Once Redis has the key, a seed changes nothing.
  EXPECT_EQ(call("gw1", c, 0).reserved, 99);
}

TEST_F(LeaseScriptTest, SilentGatewaysStopCountingAsMembers) {
  call("gw1", counter(10, 0));
  call("gw2", counter(10, 0));
  EXPECT_EQ(last_members, 2);
  call("gw3", counter(10, 0), -1, false, kNow + kTtl + 1);
  EXPECT_EQ(last_members, 1);
}

TEST_F(LeaseScriptTest, ReloadsTheScriptWhenRedisForgotIt) {
  call("gw1", counter(10, 1));
  command({"SCRIPT", "FLUSH"});
  EXPECT_EQ(call("gw1", counter(10, 1)).reserved, 2);
}

TEST_F(LeaseScriptTest, AppliesEveryCounterOfACallInOrder) {
  CounterAsk a = counter(10, 4);
  CounterAsk b = counter(20, 100);
  b.key = "0000000000000001";
  auto result = script.run(redis, keys, "gw1", kNow, kTtl, {{&a}, {&b}});
  ASSERT_TRUE(result);
  ASSERT_EQ(result->grants.size(), 2u);
  EXPECT_EQ(result->grants[0].granted, 4);
  EXPECT_EQ(result->grants[1].granted, 10);
}

TEST_F(LeaseScriptTest, SaysSoWhenRedisCannotBeReached) {
  server.stop();
  CounterAsk c = counter(10, 1);
  EXPECT_FALSE(script.run(redis, keys, "gw1", kNow, kTtl, {{&c}}));
}

}  // namespace
}  // namespace portico::trafficmanager
