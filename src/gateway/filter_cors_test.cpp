#include "gateway/filter_cors.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

std::unique_ptr<Call> preflight(std::shared_ptr<const Snapshot> snapshot, std::string_view origin,
                                std::string_view requested_headers = "") {
  if (requested_headers.empty()) {
    return call(std::move(snapshot), "OPTIONS", "/pets/1.0.0/items",
                {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
  }
  return call(std::move(snapshot), "OPTIONS", "/pets/1.0.0/items",
              {{"Origin", origin},
               {"Access-Control-Request-Method", "POST"},
               {"Access-Control-Request-Headers", requested_headers}});
}

TEST(CorsFilter, APreflightFromAnAllowedOriginIsAnsweredWithTheAllowHeaders) {
  CorsFilter cors;
  auto c = preflight(snapshot_with(), "https://app.example.com");
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kReply);
  const auto& reply = c->ctx.reply;
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.is_error);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_EQ(reply_header(reply, "Access-Control-Allow-Origin"), "https://app.example.com");
  // The configured methods the path has resources for (GET, POST; OPTIONS answered here).
  EXPECT_EQ(reply_header(reply, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(reply_header(reply, "Access-Control-Allow-Headers"), "authorization, content-type");
  EXPECT_FALSE(reply_header(reply, "Access-Control-Allow-Credentials"));
  EXPECT_EQ(reply_header(reply, "Vary"), "Origin");
}

TEST(CorsFilter, APreflightFromAnotherOriginGets200WithoutAllowHeaders) {
  CorsFilter cors;
  auto c = preflight(snapshot_with(), "https://evil.example.net");
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 200);
  for (const auto& [name, value] : c->ctx.reply.headers)
    EXPECT_FALSE(name.starts_with("Access-Control-")) << name;
  EXPECT_EQ(reply_header(c->ctx.reply, "Vary"), "Origin");
}

TEST(CorsFilter, AWildcardWithoutCredentialsAnswersStar) {
  auto api = pet_api();
  api->cors.allow_origins = {"*"};
  CorsFilter cors;
  auto c = preflight(snapshot_with(api), "https://any.example.org");
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(reply_header(c->ctx.reply, "Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(reply_header(c->ctx.reply, "Vary"));
}

TEST(CorsFilter, AWildcardWithCredentialsEchoesTheOrigin) {
  auto api = pet_api();
  api->cors.allow_origins = {"*"};
  api->cors.allow_credentials = true;
  CorsFilter cors;
  auto c = preflight(snapshot_with(api), "https://any.example.org");
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(reply_header(c->ctx.reply, "Access-Control-Allow-Origin"), "https://any.example.org");
  EXPECT_EQ(reply_header(c->ctx.reply, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(reply_header(c->ctx.reply, "Vary"), "Origin");
}

TEST(CorsFilter, AllowHeadersStarEchoesWhatTheBrowserAskedFor) {
  auto api = pet_api();
  api->cors.allow_headers = "*";
  CorsFilter cors;
  auto c = preflight(snapshot_with(api), "https://app.example.com", "x-custom, authorization");
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(reply_header(c->ctx.reply, "Access-Control-Allow-Headers"), "x-custom, authorization");
}

TEST(CorsFilter, ARequestFromAnAllowedOriginGetsTheHeadersOnItsResponse) {
  auto api = pet_api();
  api->cors.allow_credentials = true;
  CorsFilter cors;
  auto c =
      call(snapshot_with(api), "GET", "/pets/1.0.0/items", {{"Origin", "https://APP.example.com"}});
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kContinue);
  const auto& edits = c->ctx.response_edits;
  EXPECT_TRUE(removed(edits, "Access-Control-Allow-Origin"));  // replaces the backend's
  EXPECT_EQ(added(edits, "Access-Control-Allow-Origin"),
            std::vector<std::string>{"https://APP.example.com"});
  EXPECT_EQ(added(edits, "Access-Control-Allow-Credentials"), std::vector<std::string>{"true"});
  EXPECT_EQ(added(edits, "Vary"), std::vector<std::string>{"Origin"});
  EXPECT_FALSE(removed(edits, "Vary"));  // the backend's own Vary stays
}

TEST(CorsFilter, ARequestFromAnotherOriginGetsOnlyVary) {
  CorsFilter cors;
  auto c = call(snapshot_with(), "GET", "/pets/1.0.0/items", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(added(c->ctx.response_edits, "Access-Control-Allow-Origin").empty());
  EXPECT_EQ(added(c->ctx.response_edits, "Vary"), std::vector<std::string>{"Origin"});
}

TEST(CorsFilter, AnApiWithoutCorsIsLeftAlone) {
  auto api = pet_api();
  api->cors.enabled = false;
  CorsFilter cors;
  auto c =
      call(snapshot_with(api), "GET", "/pets/1.0.0/items", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(c->ctx.response_edits.empty());
}

TEST(CorsFilter, AnApiWithItsOwnOptionsResourceAnswersPreflightsItself) {
  auto api = pet_api();
  api->resources.push_back(resource("OPTIONS", "/items", AuthType::kNone));
  CorsFilter cors;
  auto c = preflight(snapshot_with(api), "https://app.example.com");
  ASSERT_EQ(c->ctx.route.status, RouteMatch::Status::kMatched);
  EXPECT_EQ(run(cors, c->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(c->ctx.response_edits.empty());
}

TEST(CorsFilter, OriginPatternsMatchTheWholeOrigin) {
  Cors cors;
  cors.allow_origins = {"https://*.example.com", "http://localhost:3000"};
  EXPECT_TRUE(cors_origin_allowed(cors, "https://a.example.com"));
  EXPECT_TRUE(cors_origin_allowed(cors, "https://a.b.example.com"));
  EXPECT_TRUE(cors_origin_allowed(cors, "HTTP://LOCALHOST:3000"));
  EXPECT_FALSE(cors_origin_allowed(cors, "https://a.example.com.evil.net"));
  EXPECT_FALSE(cors_origin_allowed(cors, "https://evil.net/.example.com"));
  EXPECT_FALSE(cors_origin_allowed(cors, "http://localhost:3001"));
}

}  // namespace
}  // namespace portico::gateway
