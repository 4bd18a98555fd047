// The gateway's quota ledger, through the throttler that consults it: what a gateway admits
// on its leases, what it asks for, reports and gives back.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "traffic/traffic.h"

namespace portico::traffic {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kT0 = 1'700'000'040'000;  // a minute boundary
constexpr std::int64_t kWindow = kT0 / kMinute;

// An API-level advanced policy of `count` requests a minute.
std::shared_ptr<const PolicySet> api_policy(std::int64_t count) {
  std::string advanced =
      R"([{"policyName":"Api","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":)"
      R"({"timeUnit":"min","unitTime":1,"requestCount":)" +
      std::to_string(count) + "}}}]";
  return PolicySet::build(boost::json::array{}, boost::json::array{},
                          boost::json::parse(advanced).as_array(), boost::json::array{}, nullptr);
}

ThrottleRequest request(std::int64_t now_ms = kT0) {
  ThrottleRequest r;
  r.client_ip = "192.0.2.10";
  r.api_id = "api-1";
  r.api_context_version = "/pets/1.0.0";
  r.api_policy = "Api";
  r.key_type = "PRODUCTION";
  r.now_ms = now_ms;
  return r;
}

struct Cluster {
  explicit Cluster(QuotaLedgerOptions options = {}, std::int64_t limit = 100)
      : ledger(options), throttler(ThrottlerOptions{1024, &ledger}), policies(api_policy(limit)) {}

  ThrottleDecision call(std::int64_t now_ms = kT0) {
    return throttler.decide(*policies, request(now_ms));
  }
  int admitted(int attempts, std::int64_t now_ms = kT0) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) n += call(now_ms).allowed ? 1 : 0;
    return n;
  }
  std::vector<LeaseAsk> collect(std::int64_t now_ms = kT0, bool full_scan = false) {
    return ledger.collect(throttler, now_ms, full_scan);
  }
  // Answers `asks` granting `granted` each (and `until`).
  void grant(const std::vector<LeaseAsk>& asks, std::int64_t granted, std::int64_t until = 0,
             std::int64_t now_ms = kT0) {
    std::vector<LeaseAnswer> answers;
    for (const LeaseAsk& a : asks)
      answers.push_back({a.key, a.window_ms, a.window, granted, until});
    ledger.apply(asks, answers, now_ms);
  }

  QuotaLedger ledger;
  Throttler throttler;
  std::shared_ptr<const PolicySet> policies;
};

TEST(QuotaLedger, FirstRequestOfAWindowIsAdmittedOnCreditAndReportedAsOverdraft) {
  Cluster c;
  EXPECT_TRUE(c.call().allowed);
  auto second = c.call();
  EXPECT_FALSE(second.allowed);  // no grant yet: one credit only
  EXPECT_EQ(second.code, 900800);
  auto asks = c.collect();
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].window_ms, kMinute);
  EXPECT_EQ(asks[0].window, kWindow);
  EXPECT_EQ(asks[0].limit, 100);
  EXPECT_EQ(asks[0].overdraft, 1);
  EXPECT_GE(asks[0].want, 1);
  EXPECT_EQ(asks[0].give_back, 0);
}

TEST(QuotaLedger, ABusyCountersCreditIsOnePercentOfItsLimitOverTheMembers) {
  // 30,000 a minute over 3 gateways: each admits 100 before its first grant, so that the
  // requests of a lease's round trip at a window's start are not refused; the three credits
  // together are 1 % of the limit, all reported as overdraft.
  Cluster c({}, 30000);
  c.ledger.set_members(3);
  EXPECT_EQ(c.admitted(150), 100);
  auto asks = c.collect();
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].overdraft, 100);
}

TEST(QuotaLedger, AGrantAdmitsThatManyMore) {
  Cluster c;
  c.call();
  c.grant(c.collect(), 10);
  EXPECT_EQ(c.admitted(20), 10);
}

TEST(QuotaLedger, AsksForMoreOnceLessThanHalfTheLastGrantIsLeft) {
  Cluster c;
  c.call();
  c.grant(c.collect(), 10);
  EXPECT_EQ(c.admitted(5), 5);  // 5 of 10 left
  EXPECT_TRUE(c.collect().empty());
  EXPECT_EQ(c.admitted(1), 1);  // 4 left
  auto asks = c.collect();
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_GE(asks[0].want, 1);
  EXPECT_EQ(asks[0].overdraft, 0);  // the credit was reported once
}

TEST(QuotaLedger, WantFollowsTheRecentRateOverTheHorizon) {
  Cluster c(QuotaLedgerOptions{.lease_horizon_ms = 1000});
  c.call();
  auto first = c.collect();
  c.grant(first, 1000);
  EXPECT_EQ(c.admitted(200, kT0 + 1000), 200);  // 200 requests in the second since the ask
  c.ledger.want_more(first[0].key, kT0 + 1000);
  auto asks = c.collect(kT0 + 1000);
  ASSERT_EQ(asks.size(), 1u);
  // Smoothed with the first estimate: between half the recent rate and all of it.
  EXPECT_GE(asks[0].want, 100);
  EXPECT_LE(asks[0].want, 200);
}

TEST(QuotaLedger, ASpentCounterIsRefusedWithoutAsking) {
  Cluster c;
  c.call();
  c.grant(c.collect(), 2, (kWindow + 1) * kMinute);  // the last two tokens of the cluster
  EXPECT_EQ(c.admitted(5), 2);
  EXPECT_TRUE(c.collect().empty());
  EXPECT_GE(c.ledger.stats().refused_spent, 3u);
}

TEST(QuotaLedger, ASpentCounterIsAskedAgainAfterTheIdleTime) {
  Cluster c(QuotaLedgerOptions{.lease_idle_ms = 1000});
  c.call();
  c.grant(c.collect(), 0, (kWindow + 1) * kMinute);
  EXPECT_FALSE(c.call(kT0 + 10).allowed);
  EXPECT_TRUE(c.collect(kT0 + 10).empty());
  EXPECT_FALSE(c.call(kT0 + 1500).allowed);
  auto asks = c.collect(kT0 + 1500);
  ASSERT_EQ(asks.size(), 1u);
  c.grant(asks, 3, 0, kT0 + 1500);  // someone gave quota back
  EXPECT_EQ(c.admitted(5, kT0 + 1500), 3);
}

TEST(QuotaLedger, AnExhaustedEventRefusesTheWindowWithoutACredit) {
  Cluster c;
  c.call();
  auto key = c.collect()[0].key;
  const std::int64_t next = kT0 + kMinute;
  c.ledger.mark_spent(key, kMinute, kWindow + 1, next + kMinute);
  auto d = c.call(next);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 60);
  EXPECT_TRUE(c.collect(next).empty());
}

TEST(QuotaLedger, IdleUnspentTokensAreGivenBack) {
  Cluster c(QuotaLedgerOptions{.lease_idle_ms = 1000});
  c.call();
  c.grant(c.collect(), 10);
  EXPECT_EQ(c.admitted(2), 2);
  EXPECT_TRUE(c.collect(kT0 + 500, true).empty());  // not idle yet
  auto asks = c.collect(kT0 + 1000, true);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].give_back, 8);  // 10 granted + 1 credit, 3 used
  EXPECT_EQ(asks[0].want, 0);
  c.grant(asks, 0, 0, kT0 + 1000);
  // Nothing left here: the next request wants more.
  EXPECT_FALSE(c.call(kT0 + 1100).allowed);
  auto more = c.collect(kT0 + 1100);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_GE(more[0].want, 1);
}

TEST(QuotaLedger, AFailedCallLeavesItsOverdraftAndReturnToBeTold) {
  Cluster c(QuotaLedgerOptions{.lease_idle_ms = 1000});
  c.call();
  auto asks = c.collect();
  ASSERT_EQ(asks.size(), 1u);
  c.ledger.abandon(asks);
  auto again = c.collect();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].overdraft, 1);
}

TEST(QuotaLedger, FailOpenAdmitsTheLimitOverMembersAndReportsItWhenBack) {
  Cluster c;
  c.ledger.set_members(4);
  c.ledger.set_fallback(true);
  EXPECT_EQ(c.admitted(40), 25);  // floor(100 / 4)
  c.ledger.set_fallback(false);
  auto asks = c.collect(kT0 + 10, true);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].overdraft, 25);
}

TEST(QuotaLedger, FailClosedSpendsItsGrantThenRefusesWith503) {
  Cluster c(QuotaLedgerOptions{.fail_closed = true});
  c.call();
  c.grant(c.collect(), 3);
  c.ledger.set_fallback(true);
  EXPECT_EQ(c.admitted(3), 3);
  auto d = c.call();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.code, 900809);
  EXPECT_EQ(d.message, "Throttling unavailable");
}

TEST(QuotaLedger, AGrantForAWindowThatEndedIsIgnored) {
  Cluster c;
  c.call();
  auto asks = c.collect();
  EXPECT_TRUE(c.call(kT0 + kMinute).allowed);  // a new window's credit
  c.grant(asks, 50, 0, kT0 + kMinute);
  EXPECT_FALSE(c.call(kT0 + kMinute).allowed);
}

TEST(QuotaLedger, BackendMaxTpsCountsAtItsShareOfTheMembers) {
  Cluster c;
  c.ledger.set_members(3);
  auto r = request();
  r.api_policy = "";
  r.backend_max_tps = 10;
  int n = 0;
  for (int i = 0; i < 10; ++i) n += c.throttler.decide(*c.policies, r).allowed ? 1 : 0;
  EXPECT_EQ(n, 3);  // floor(10 / 3)
  c.ledger.set_members(20);
  r.now_ms += 1000;
  n = 0;
  for (int i = 0; i < 10; ++i) n += c.throttler.decide(*c.policies, r).allowed ? 1 : 0;
  EXPECT_EQ(n, 1);  // at least one
}

TEST(QuotaLedger, EntriesOfEndedWindowsAreDropped) {
  Cluster c;
  c.call();
  c.grant(c.collect(), 5);
  EXPECT_EQ(c.ledger.stats().counters, 1u);
  c.collect(kT0 + kMinute + 2000, true);
  EXPECT_EQ(c.ledger.stats().counters, 0u);
}

TEST(QuotaLedger, WithoutALedgerTheThrottlerCountsPerNode) {
  Throttler t;
  auto p = api_policy(3);
  int n = 0;
  for (int i = 0; i < 5; ++i) n += t.decide(*p, request()).allowed ? 1 : 0;
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace portico::traffic
