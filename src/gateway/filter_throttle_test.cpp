#include "gateway/filter_throttle.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

std::string count_limit(std::int64_t count, std::string_view unit = "min") {
  return R"({"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":")" + std::string(unit) +
         R"(","unitTime":1,"requestCount":)" + std::to_string(count) + "}}";
}

std::string policy(std::string_view name, const std::string& limit, std::string_view extra = "") {
  return R"({"policyName":")" + std::string(name) + R"(","defaultLimit":)" + limit +
         (extra.empty() ? "" : ",") + std::string(extra) + "}";
}

class ThrottleFilterTest : public ::testing::Test {
 protected:
  // An authenticated GET /items of carol through app-1's Gold subscription.
  std::unique_ptr<Call> get(
      std::initializer_list<std::pair<std::string_view, std::string_view>> headers = {}) {
    auto c = call(snapshot_, "GET", "/pets/1.0.0/items", headers);
    authenticated(c->ctx, oauth_principal());
    c->ctx.subscription = &snapshot_->subscriptions["app-1"]["api-1"];
    return c;
  }

  std::shared_ptr<Snapshot> snapshot_ = snapshot_with();
  traffic::Throttler throttler_;
  ThrottleFilter filter_{throttler_};
};

TEST_F(ThrottleFilterTest, ASpentSubscriptionQuotaIs429With900804AndRetryAfter) {
  snapshot_->policies = policies(policy("Gold", count_limit(2), R"("stopOnQuotaReach":true)"));
  for (int i = 0; i < 2; ++i) {
    auto c = get();
    EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue) << i;
    EXPECT_TRUE(c->ctx.throttle.allowed);
  }
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 429);
  EXPECT_EQ(c->ctx.reply.code, 900804);
  EXPECT_EQ(c->ctx.reply.message, "Subscription level throttled out");
  EXPECT_EQ(c->ctx.reply.error_type, "THROTTLED");
  // The request came at the start of a minute window.
  EXPECT_EQ(reply_header(c->ctx.reply, "Retry-After"), "60");
}

TEST_F(ThrottleFilterTest, AQuotaThatDoesNotStopLetsTheRequestThrough) {
  snapshot_->policies = policies(policy("Gold", count_limit(1), R"("stopOnQuotaReach":false)"));
  auto first = get();
  EXPECT_EQ(run(filter_, first->ctx), FilterStatus::kContinue);
  auto second = get();
  EXPECT_EQ(run(filter_, second->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(second->ctx.throttle.subscription_over_quota);
}

TEST_F(ThrottleFilterTest, ABlockingConditionIs429With900805WithoutRetryAfter) {
  snapshot_->policies = policies(
      "", "", "",
      R"({"conditionType":"IP","conditionValue":{"fixedIp":"192.0.2.10","invert":false}})");
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 429);
  EXPECT_EQ(c->ctx.reply.code, 900805);
  EXPECT_FALSE(reply_header(c->ctx.reply, "Retry-After"));
}

TEST_F(ThrottleFilterTest, ApplicationsAreNamedOwnerColonNameForBlockingConditions) {
  snapshot_->policies =
      policies("", "", "", R"({"conditionType":"APPLICATION","conditionValue":"bob:shop"})");
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900805);
}

TEST_F(ThrottleFilterTest, TheBackendsMaxTpsIs503With900801PerKeyType) {
  auto api = pet_api();
  api->max_tps_production = 1;
  api->max_tps_sandbox = 5;
  snapshot_ = snapshot_with(api);
  auto first = get();
  EXPECT_EQ(run(filter_, first->ctx), FilterStatus::kContinue);
  auto second = get();
  EXPECT_EQ(run(filter_, second->ctx), FilterStatus::kReply);
  EXPECT_EQ(second->ctx.reply.status, 503);
  EXPECT_EQ(second->ctx.reply.code, 900801);
  EXPECT_EQ(reply_header(second->ctx.reply, "Retry-After"), "1");
  auto sandbox = get();
  sandbox->ctx.key_type = "SANDBOX";
  EXPECT_EQ(run(filter_, sandbox->ctx), FilterStatus::kContinue);
}

TEST_F(ThrottleFilterTest, ApiPolicyConditionsSeeTheRequestsHeaders) {
  auto api = pet_api();
  api->api_throttling_policy = "Tiered";
  snapshot_ = snapshot_with(api);
  snapshot_->policies = policies(
      "", "",
      policy(
          "Tiered", count_limit(100),
          R"("conditionalGroups":[{"conditions":[{"type":"HEADERCONDITION","invertCondition":false,"headerCondition":{"headerName":"X-Tier","headerValue":"free"}}],"limit":)" +
              count_limit(1) + "}]"));
  auto first = get({{"x-tier", "free"}});
  EXPECT_EQ(run(filter_, first->ctx), FilterStatus::kContinue);
  auto second = get({{"X-Tier", "free"}});
  EXPECT_EQ(run(filter_, second->ctx), FilterStatus::kReply);
  EXPECT_EQ(second->ctx.reply.code, 900800);
  auto other = get({{"X-Tier", "paid"}});
  EXPECT_EQ(run(filter_, other->ctx), FilterStatus::kContinue);
}

TEST_F(ThrottleFilterTest, ResponseBytesCountAgainstBandwidthPoliciesOnCompletion) {
  snapshot_->applications["app-1"].throttling_policy = "OneKB";
  snapshot_->policies = policies(
      "",
      policy(
          "OneKB",
          R"({"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"min","unitTime":1,"dataAmount":1,"dataUnit":"KB"}})"));
  auto first = get();
  EXPECT_EQ(run(filter_, first->ctx), FilterStatus::kContinue);
  ASSERT_EQ(first->ctx.throttle.bandwidth_count, 1);
  first->ctx.response_bytes = 2048;
  first->ctx.finished = first->ctx.started + std::chrono::milliseconds(5);
  filter_.on_complete(first->ctx);
  auto second = get();
  EXPECT_EQ(run(filter_, second->ctx), FilterStatus::kReply);
  EXPECT_EQ(second->ctx.reply.status, 429);
  EXPECT_EQ(second->ctx.reply.code, 900803);
}

TEST_F(ThrottleFilterTest, AnonymousCallsAreCountedAtTheApiLevelOnly) {
  snapshot_->policies = policies(policy("Gold", count_limit(1), R"("stopOnQuotaReach":true)"));
  for (int i = 0; i < 3; ++i) {
    auto c = call(snapshot_, "GET", "/pets/1.0.0/open");
    EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue) << i;
  }
}

}  // namespace
}  // namespace portico::gateway
