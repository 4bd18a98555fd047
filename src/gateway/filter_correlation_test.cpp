#include "gateway/filter_correlation.h"

#include <gtest/gtest.h>

#include <regex>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

bool is_uuid_v4(const std::string& id) {
  static const std::regex pattern(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(id, pattern);
}

TEST(CorrelationFilter, ASaneActivityIdIsKeptForwardedAndReturned) {
  CorrelationFilter filter;
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items", {{"activityid", "req-42.abc"}});
  EXPECT_EQ(run(filter, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.correlation_id, "req-42.abc");
  EXPECT_TRUE(removed(c->ctx.upstream_edits, "activityid"));
  EXPECT_EQ(added(c->ctx.upstream_edits, "activityid"), std::vector<std::string>{"req-42.abc"});
  filter.on_response(c->ctx);
  EXPECT_EQ(added(c->ctx.response_edits, "activityid"), std::vector<std::string>{"req-42.abc"});
}

TEST(CorrelationFilter, WithoutAnActivityIdAUuidV4IsMade) {
  CorrelationFilter filter;
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items");
  EXPECT_EQ(run(filter, c->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(is_uuid_v4(c->ctx.correlation_id)) << c->ctx.correlation_id;
  EXPECT_EQ(added(c->ctx.upstream_edits, "activityid"),
            std::vector<std::string>{c->ctx.correlation_id});
}

TEST(CorrelationFilter, AnInsaneActivityIdIsReplaced) {
  std::string too_long(129, 'a');
  for (std::string_view bad : {std::string_view("has space"), std::string_view("tab\there"),
                               std::string_view(too_long), std::string_view("caf\xc3\xa9")}) {
    CorrelationFilter filter;
    auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items", {{"activityid", bad}});
    EXPECT_EQ(run(filter, c->ctx), FilterStatus::kContinue);
    EXPECT_TRUE(is_uuid_v4(c->ctx.correlation_id)) << bad;
    EXPECT_EQ(added(c->ctx.upstream_edits, "activityid"),
              std::vector<std::string>{c->ctx.correlation_id});
  }
  EXPECT_TRUE(CorrelationFilter::is_sane(std::string(128, 'z')));
}

TEST(CorrelationFilter, AReplyGivenBeforeTheFilterRanStillGetsAnId) {
  CorrelationFilter filter;
  auto c = call(snapshot_with(), "GET", "/%2F");
  filter.on_response(c->ctx);
  EXPECT_TRUE(is_uuid_v4(c->ctx.correlation_id));
  EXPECT_EQ(added(c->ctx.response_edits, "activityid"),
            std::vector<std::string>{c->ctx.correlation_id});
}

}  // namespace
}  // namespace portico::gateway
