#include "gateway/filter_subscription.h"

#include <gtest/gtest.h>

#include "gateway/filter_auth.h"
#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

class SubscriptionFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Call> authenticated_call(std::string_view method, std::string_view target,
                                           std::shared_ptr<Principal> principal,
                                           std::string_view key_type = "PRODUCTION") {
    auto c = call(snapshot_, method, target);
    authenticated(c->ctx, std::move(principal), key_type);
    return c;
  }

  Subscription& subscription() { return snapshot_->subscriptions["app-1"]["api-1"]; }

  std::shared_ptr<Snapshot> snapshot_ = snapshot_with();
  SubscriptionFilter filter_;
};

TEST_F(SubscriptionFilterTest, ASubscribedApplicationPassesAndTheSubscriptionIsKept) {
  auto c = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal());
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  ASSERT_NE(c->ctx.subscription, nullptr);
  EXPECT_EQ(c->ctx.subscription->id, "sub-1");
}

TEST_F(SubscriptionFilterTest, NoSubscriptionIs403With900908) {
  snapshot_->subscriptions.clear();
  auto c = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal());
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900908);
  EXPECT_EQ(c->ctx.reply.message, "Resource forbidden");
  EXPECT_EQ(c->ctx.reply.description,
            "User is NOT authorized to access the Resource. API Subscription validation failed.");
  EXPECT_EQ(c->ctx.reply.error_type, "AUTH");
}

TEST_F(SubscriptionFilterTest, ABlockedSubscriptionIs401With900907AndAChallenge) {
  subscription().status = "BLOCKED";
  for (std::string_view key_type : {"PRODUCTION", "SANDBOX"}) {
    auto c = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal(), key_type);
    EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply) << key_type;
    EXPECT_EQ(c->ctx.reply.status, 401);
    EXPECT_EQ(c->ctx.reply.code, 900907);
    EXPECT_EQ(c->ctx.reply.message, "The requested API is temporarily blocked");
    EXPECT_EQ(reply_headers(c->ctx.reply, "WWW-Authenticate"),
              std::vector<std::string>{std::string(challenge::kBearer)});
  }
}

TEST_F(SubscriptionFilterTest, ProductionOnlyBlockingLeavesSandboxKeysThrough) {
  subscription().status = "PROD_ONLY_BLOCKED";
  auto production = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal());
  EXPECT_EQ(run(filter_, production->ctx), FilterStatus::kReply);
  EXPECT_EQ(production->ctx.reply.code, 900907);
  auto sandbox = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal(), "SANDBOX");
  EXPECT_EQ(run(filter_, sandbox->ctx), FilterStatus::kContinue);
}

TEST_F(SubscriptionFilterTest, ASubscriptionAwaitingApprovalOrRejectedIs401With900909) {
  for (std::string_view status : {"ON_HOLD", "REJECTED"}) {
    subscription().status = status;
    auto c = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal());
    EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply) << status;
    EXPECT_EQ(c->ctx.reply.status, 401) << status;
    EXPECT_EQ(c->ctx.reply.code, 900909) << status;
    EXPECT_EQ(c->ctx.reply.message, "The subscription to the API is inactive");
    EXPECT_FALSE(reply_headers(c->ctx.reply, "WWW-Authenticate").empty());
  }
}

TEST_F(SubscriptionFilterTest, ASubscriptionWithATierChangePendingStillServes) {
  subscription().status = "TIER_UPDATE_PENDING";
  auto c = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal());
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
}

TEST_F(SubscriptionFilterTest, AnApplicationNotApprovedIs403With900908) {
  for (std::string_view status : {"CREATED", "REJECTED", "ON_HOLD"}) {
    snapshot_->applications["app-1"].status = status;
    auto c = authenticated_call("GET", "/pets/1.0.0/items", oauth_principal());
    EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply) << status;
    EXPECT_EQ(c->ctx.reply.status, 403);
    EXPECT_EQ(c->ctx.reply.code, 900908);
  }
}

TEST_F(SubscriptionFilterTest, ATokenWithoutTheResourcesScopeIs403With900910) {
  auto c = authenticated_call("POST", "/pets/1.0.0/items", oauth_principal(true, {"read"}));
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900910);
  EXPECT_EQ(c->ctx.reply.message,
            "The access token does not allow you to access the requested resource");
  auto ok =
      authenticated_call("POST", "/pets/1.0.0/items", oauth_principal(true, {"read", "write"}));
  EXPECT_EQ(run(filter_, ok->ctx), FilterStatus::kContinue);
}

TEST_F(SubscriptionFilterTest, ApiKeysAreNotCheckedAgainstScopesAsInTheReference) {
  auto key = std::make_shared<Principal>();
  key->kind = Principal::Kind::kApiKey;
  key->jti = "key-1";
  key->application_id = "app-1";
  key->user = "bob";
  auto c = authenticated_call("POST", "/pets/1.0.0/items", key);
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  // Still subject to the subscription.
  subscription().status = "BLOCKED";
  auto blocked = authenticated_call("POST", "/pets/1.0.0/items", key);
  EXPECT_EQ(run(filter_, blocked->ctx), FilterStatus::kReply);
  EXPECT_EQ(blocked->ctx.reply.code, 900907);
  EXPECT_EQ(reply_headers(blocked->ctx.reply, "WWW-Authenticate"),
            std::vector<std::string>{std::string(challenge::kApiKey)});
}

std::shared_ptr<Principal> basic_user(std::vector<std::string> roles) {
  auto p = std::make_shared<Principal>();
  p->kind = Principal::Kind::kBasic;
  p->user = "erin";
  p->roles = std::move(roles);
  return p;
}

TEST_F(SubscriptionFilterTest, BasicUsersNeedNoSubscriptionButARoleBoundToTheScope) {
  snapshot_->subscriptions.clear();
  auto run_basic = [&](std::string_view method, std::string_view target,
                       std::vector<std::string> roles) {
    auto c = call(snapshot_, method, target);
    c->ctx.principal = basic_user(std::move(roles));
    c->ctx.user = "erin";
    auto status = run(filter_, c->ctx);
    return std::make_pair(status, c->ctx.reply.code);
  };
  EXPECT_EQ(run_basic("GET", "/pets/1.0.0/items", {}).first, FilterStatus::kContinue);
  EXPECT_EQ(run_basic("POST", "/pets/1.0.0/items", {"Writer"}).first, FilterStatus::kContinue);
  auto refused = run_basic("POST", "/pets/1.0.0/items", {"reader"});
  EXPECT_EQ(refused.first, FilterStatus::kReply);
  EXPECT_EQ(refused.second, 900910);
  // A scope bound to no role is open to every user.
  EXPECT_EQ(run_basic("GET", "/pets/1.0.0/public", {}).first, FilterStatus::kContinue);
  EXPECT_EQ(run_basic("GET", "/pets/1.0.0/admin", {"admin"}).first, FilterStatus::kContinue);
}

TEST_F(SubscriptionFilterTest, AScopeTheApiDoesNotListIsHeldByNoBasicUser) {
  auto api = pet_api();
  api->scope_roles.clear();  // bindings lost on the way: fail closed, not open
  snapshot_ = snapshot_with(api);
  auto c = call(snapshot_, "POST", "/pets/1.0.0/items");
  c->ctx.principal = basic_user({"writer", "admin"});
  c->ctx.user = "erin";
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900910);
}

TEST_F(SubscriptionFilterTest, AnonymousCallsPass) {
  snapshot_->subscriptions.clear();
  auto c = call(snapshot_, "GET", "/pets/1.0.0/open");
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.subscription, nullptr);
}

}  // namespace
}  // namespace portico::gateway
