#include "gateway/filter_route.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

TEST(RouteFilter, NoApiForThePathIs404InTheReferenceShape) {
  RouteFilter route;
  auto c = call(snapshot_with(), "GET", "/nothing/here");
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 404);
  EXPECT_EQ(c->ctx.reply.code, 404);
  EXPECT_EQ(c->ctx.reply.message, "Not Found");
  EXPECT_EQ(c->ctx.reply.description, "No API is deployed for the requested path");
  EXPECT_TRUE(c->ctx.reply.is_error);
}

TEST(RouteFilter, AMatchedResourceContinuesWithApiAndResource) {
  RouteFilter route;
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items?x=1");
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kContinue);
  ASSERT_NE(c->ctx.route.api, nullptr);
  ASSERT_NE(c->ctx.route.resource, nullptr);
  EXPECT_EQ(c->ctx.route.api->id, "api-1");
  EXPECT_EQ(c->ctx.route.resource->uri_template, "/items");
  EXPECT_EQ(c->ctx.reply.status, 0);
}

TEST(RouteFilter, AnUnknownResourceIs403With900906) {
  RouteFilter route;
  auto c = call(snapshot_with(), "DELETE", "/pets/1.0.0/items");
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900906);
  EXPECT_EQ(c->ctx.reply.message, "No matching resource found in the API for the given request");
}

TEST(RouteFilter, ABlockedApiIs503With700700OnEveryPath) {
  auto api = pet_api();
  api->lifecycle = "BLOCKED";
  auto snapshot = snapshot_with(api);
  RouteFilter route;
  for (std::string_view target : {"/pets/1.0.0/items", "/pets/1.0.0/unknown"}) {
    auto c = call(snapshot, "GET", target);
    EXPECT_EQ(run(route, c->ctx), FilterStatus::kReply) << target;
    EXPECT_EQ(c->ctx.reply.status, 503) << target;
    EXPECT_EQ(c->ctx.reply.code, 700700) << target;
    EXPECT_EQ(c->ctx.reply.message, "API blocked") << target;
  }
}

TEST(RouteFilter, ARetiredApiIsAnsweredAsIfAbsent) {
  auto api = pet_api();
  api->lifecycle = "RETIRED";
  RouteFilter route;
  auto c = call(snapshot_with(api), "GET", "/pets/1.0.0/items");
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 404);
  EXPECT_EQ(c->ctx.reply.code, 404);
}

TEST(RouteFilter, PrototypedAndDeprecatedApisAreServed) {
  for (std::string_view state : {"PROTOTYPED", "DEPRECATED", "CREATED"}) {
    auto api = pet_api();
    api->lifecycle = state;
    RouteFilter route;
    auto c = call(snapshot_with(api), "GET", "/pets/1.0.0/items");
    EXPECT_EQ(run(route, c->ctx), FilterStatus::kContinue) << state;
  }
}

TEST(RouteFilter, OptionsWithoutAnOptionsResourceIs200WithAllowAndNoBody) {
  auto api = pet_api();
  api->cors.enabled = false;
  RouteFilter route;
  auto c = call(snapshot_with(api), "OPTIONS", "/pets/1.0.0/items",
                {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 200);
  EXPECT_FALSE(c->ctx.reply.is_error);
  EXPECT_TRUE(c->ctx.reply.body.empty());
  EXPECT_EQ(reply_header(c->ctx.reply, "Allow"), "GET, POST, OPTIONS");
}

TEST(RouteFilter, APlainOptionsOnACorsApiIsStillAnsweredWithAllow) {
  RouteFilter route;
  auto c = call(snapshot_with(), "OPTIONS", "/pets/1.0.0/items");
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(reply_header(c->ctx.reply, "Allow"), "GET, POST, OPTIONS");
}

TEST(RouteFilter, APreflightOnACorsApiIsLeftToTheCorsFilter) {
  RouteFilter route;
  auto c = call(snapshot_with(), "OPTIONS", "/pets/1.0.0/items",
                {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(run(route, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.route.status, RouteMatch::Status::kOptions);
  EXPECT_EQ(c->ctx.reply.status, 0);
}

}  // namespace
}  // namespace portico::gateway
