#include "gateway/filter_mediation.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

HeaderPolicy add(std::string name, std::string value) {
  return HeaderPolicy{HeaderPolicy::Kind::kAdd, std::move(name), std::move(value)};
}
HeaderPolicy remove(std::string name) {
  return HeaderPolicy{HeaderPolicy::Kind::kRemove, std::move(name), {}};
}

std::shared_ptr<Snapshot> snapshot_with_policies() {
  auto api = pet_api();
  Resource& items = api->resources.front();
  items.request_headers = {add("X-Added", "1"), remove("X-Secret"),      add("X-Gone", "a"),
                           remove("x-gone"),    add("X-Twice", "first"), add("X-Twice", "second")};
  items.response_headers = {add("X-Served-By", "portico"), remove("Server")};
  return snapshot_with(api);
}

TEST(MediationFilter, RequestPoliciesBecomeUpstreamEditsInTheirOrder) {
  MediationFilter filter;
  auto c = call(snapshot_with_policies(), "GET", "/pets/1.0.0/items");
  EXPECT_EQ(run(filter, c->ctx), FilterStatus::kContinue);
  const auto& edits = c->ctx.upstream_edits;
  EXPECT_EQ(added(edits, "X-Added"), std::vector<std::string>{"1"});
  EXPECT_TRUE(removed(edits, "X-Added"));  // replaces what the client sent
  EXPECT_TRUE(removed(edits, "X-Secret"));
  // Added, then removed: gone.
  EXPECT_TRUE(added(edits, "X-Gone").empty());
  EXPECT_TRUE(removed(edits, "x-gone"));
  // Added twice: the last one stands.
  EXPECT_EQ(added(edits, "X-Twice"), std::vector<std::string>{"second"});
  EXPECT_TRUE(c->ctx.response_edits.empty());
}

TEST(MediationFilter, ResponsePoliciesApplyToTheBackendsResponse) {
  MediationFilter filter;
  auto c = call(snapshot_with_policies(), "GET", "/pets/1.0.0/items");
  EXPECT_EQ(run(filter, c->ctx), FilterStatus::kContinue);
  filter.on_response(c->ctx);
  EXPECT_EQ(added(c->ctx.response_edits, "X-Served-By"), std::vector<std::string>{"portico"});
  EXPECT_TRUE(removed(c->ctx.response_edits, "Server"));
}

TEST(MediationFilter, ResponsePoliciesDoNotApplyToTheGatewaysOwnReplies) {
  MediationFilter filter;
  auto c = call(snapshot_with_policies(), "GET", "/pets/1.0.0/items");
  reply_error(c->ctx, 401, 900902, "Missing Credentials", "d", "AUTH");
  filter.on_response(c->ctx);
  EXPECT_TRUE(c->ctx.response_edits.empty());
}

}  // namespace
}  // namespace portico::gateway
