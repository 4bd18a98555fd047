#include "gateway/filter_chain.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

std::vector<std::string_view> names(const std::vector<std::unique_ptr<Filter>>& chain) {
  std::vector<std::string_view> out;
  for (const auto& f : chain) out.push_back(f->name());
  return out;
}

// As the session runs the chain (without pauses): the first filter that answers ends it; then
// every filter's on_response and on_complete.
FilterStatus run_chain(const std::vector<std::unique_ptr<Filter>>& chain, RequestContext& ctx) {
  FilterStatus status = FilterStatus::kContinue;
  for (const auto& f : chain) {
    status = run(*f, ctx);
    if (status != FilterStatus::kContinue) break;
  }
  for (const auto& f : chain) f->on_response(ctx);
  ctx.proxy_status = ctx.reply.status != 0 ? ctx.reply.status : 200;
  ctx.finished = ctx.started + std::chrono::milliseconds(3);
  for (const auto& f : chain) f->on_complete(ctx);
  return status;
}

class FilterChainTest : public ::testing::Test {
 protected:
  AuthEnvironment env_;
  traffic::Throttler throttler_;
};

TEST_F(FilterChainTest, TheChainRunsInTheDocumentedOrder) {
  auto chain = build_filter_chain(ChainOptions{},
                                  ChainDeps{env_.authenticator(), throttler_, nullptr, nullptr});
  EXPECT_EQ(names(chain),
            (std::vector<std::string_view>{"correlation", "route", "cors", "deny", "authentication",
                                           "subscription", "throttle", "mediation"}));
}

TEST_F(FilterChainTest, BackendJwtJoinsOnlyWhenEnabledWithAKey) {
  const auto& key = shared_key("gw");
  ChainOptions options;
  options.backend_jwt = true;
  auto chain =
      build_filter_chain(options, ChainDeps{env_.authenticator(), throttler_, nullptr, &key});
  EXPECT_EQ(names(chain).back(), "backend_jwt");
  auto without_key =
      build_filter_chain(options, ChainDeps{env_.authenticator(), throttler_, nullptr, nullptr});
  EXPECT_EQ(names(without_key).back(), "mediation");
}

TEST_F(FilterChainTest, AnAuthorisedCallPassesEveryFilterWithItsEdits) {
  const auto& key = shared_key("gw");
  ChainOptions options;
  options.backend_jwt = true;
  auto chain =
      build_filter_chain(options, ChainDeps{env_.authenticator(), throttler_, nullptr, &key});
  std::string authorization = "Bearer " + env_.token();
  auto c = call(snapshot_with(), "POST", "/pets/1.0.0/items",
                {{"Authorization", authorization},
                 {"Origin", "https://app.example.com"},
                 {"activityid", "call-1"}});
  EXPECT_EQ(run_chain(chain, c->ctx), FilterStatus::kContinue);
  const auto& ctx = c->ctx;
  EXPECT_EQ(ctx.reply.status, 0);
  EXPECT_EQ(ctx.correlation_id, "call-1");
  EXPECT_EQ(ctx.application->id, "app-1");
  EXPECT_EQ(ctx.subscription->id, "sub-1");
  EXPECT_TRUE(ctx.strip_authorization);
  EXPECT_EQ(added(ctx.upstream_edits, "activityid"), std::vector<std::string>{"call-1"});
  EXPECT_EQ(added(ctx.upstream_edits, "X-JWT-Assertion").size(), 1u);
  EXPECT_EQ(added(ctx.response_edits, "Access-Control-Allow-Origin"),
            std::vector<std::string>{"https://app.example.com"});
  EXPECT_EQ(added(ctx.response_edits, "activityid"), std::vector<std::string>{"call-1"});
}

TEST_F(FilterChainTest, ARefusalStopsTheChainAndStillCarriesCorsAndTheId) {
  auto chain = build_filter_chain(ChainOptions{},
                                  ChainDeps{env_.authenticator(), throttler_, nullptr, nullptr});
  auto c =
      call(snapshot_with(), "GET", "/pets/1.0.0/items", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(run_chain(chain, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900902);
  EXPECT_EQ(c->ctx.subscription, nullptr);
  EXPECT_EQ(added(c->ctx.response_edits, "Access-Control-Allow-Origin"),
            std::vector<std::string>{"https://app.example.com"});
  EXPECT_EQ(added(c->ctx.response_edits, "activityid").size(), 1u);
}

TEST_F(FilterChainTest, APreflightIsAnsweredWithoutCredentials) {
  auto chain = build_filter_chain(ChainOptions{},
                                  ChainDeps{env_.authenticator(), throttler_, nullptr, nullptr});
  auto c = call(snapshot_with(), "OPTIONS", "/pets/1.0.0/items",
                {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(run_chain(chain, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 200);
  EXPECT_EQ(reply_header(c->ctx.reply, "Access-Control-Allow-Origin"), "https://app.example.com");
}

}  // namespace
}  // namespace portico::gateway
