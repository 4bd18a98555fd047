#include "gateway/routes.h"

#include <gtest/gtest.h>

namespace portico::gateway {
namespace {

TEST(NormalizePath, ResolvesDotSegmentsAndDuplicateSlashes) {
  EXPECT_EQ(normalize_path("/pets/1.0.0/pets"), "/pets/1.0.0/pets");
  EXPECT_EQ(normalize_path("/pets//1.0.0///pets"), "/pets/1.0.0/pets");
  EXPECT_EQ(normalize_path("/pets/1.0.0/a/../pets/./x"), "/pets/1.0.0/pets/x");
  EXPECT_EQ(normalize_path("/a/b/.."), "/a/");
  EXPECT_EQ(normalize_path("/a/"), "/a/");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("//"), "/");
}

TEST(NormalizePath, DecodesUnreservedAndKeepsOtherEscapes) {
  EXPECT_EQ(normalize_path("/p%61ts/%7e"), "/pats/~");
  EXPECT_EQ(normalize_path("/a%20b/%c3%a9"), "/a%20b/%C3%A9");
  // An encoded dot is a dot: it cannot hide a dot segment.
  EXPECT_EQ(normalize_path("/a/%2e%2e/b"), "/b");
}

TEST(NormalizePath, RefusesWhatWouldChangeStructure) {
  EXPECT_FALSE(normalize_path("/a%2Fb"));
  EXPECT_FALSE(normalize_path("/a%2fb"));
  EXPECT_FALSE(normalize_path("/a%5cb"));
  EXPECT_FALSE(normalize_path("/a\\b"));
  EXPECT_FALSE(normalize_path("/a%00b"));
  EXPECT_FALSE(normalize_path("/.."));
  EXPECT_FALSE(normalize_path("/a/../../b"));
  EXPECT_FALSE(normalize_path("/a/%2e%2e/%2E%2E/b"));
  EXPECT_FALSE(normalize_path("/a%zz"));
  EXPECT_FALSE(normalize_path("/a%4"));
  EXPECT_FALSE(normalize_path("a/b"));
  EXPECT_FALSE(normalize_path(""));
}

TEST(TemplateMatches, LiteralsParametersAndWildcards) {
  EXPECT_TRUE(template_matches("/pets", "/pets"));
  EXPECT_TRUE(template_matches("/pets", "/pets/"));
  EXPECT_FALSE(template_matches("/pets", "/pets/1"));
  EXPECT_TRUE(template_matches("/pets/{petId}", "/pets/1"));
  EXPECT_FALSE(template_matches("/pets/{petId}", "/pets"));
  EXPECT_FALSE(template_matches("/pets/{petId}", "/pets/1/owner"));
  EXPECT_TRUE(template_matches("/pets/{petId}.json", "/pets/1.json"));
  EXPECT_FALSE(template_matches("/pets/{petId}.json", "/pets/.json"));
  EXPECT_TRUE(template_matches("/*", "/"));
  EXPECT_TRUE(template_matches("/*", "/a/b/c"));
  EXPECT_TRUE(template_matches("/pets/*", "/pets"));
  EXPECT_TRUE(template_matches("/pets/*", "/pets/1/owner"));
  EXPECT_FALSE(template_matches("/pets/*", "/petsx"));
  EXPECT_TRUE(template_matches("/pets?status={status}", "/pets"));
  EXPECT_TRUE(template_matches("/", "/"));
}

class MatchRoute : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = std::make_shared<Api>();
    api->id = "a1";
    api->context = "/shop/pets";
    api->version = "1.0.0";
    auto add = [&](std::string verb, std::string tmpl) {
      Resource r;
      r.verb = std::move(verb);
      r.uri_template = std::move(tmpl);
      api->resources.push_back(r);
    };
    add("GET", "/pets/{petId}");
    add("GET", "/pets/mine");
    add("GET", "/*");
    add("POST", "/pets");
    add("DELETE", "/pets/{petId}");
    std::shared_ptr<const Api> shared = api;
    snapshot.by_context["/shop/pets/1.0.0"] = shared;
    snapshot.by_context["/shop/pets"] = shared;  // default version
    snapshot.apis[shared->id] = shared;
  }
  Snapshot snapshot;
};

TEST_F(MatchRoute, PicksTheMostSpecificTemplate) {
  auto m = match_route(snapshot, "GET", "/shop/pets/1.0.0/pets/mine");
  ASSERT_EQ(m.status, RouteMatch::Status::kMatched);
  EXPECT_EQ(m.resource->uri_template, "/pets/mine");
  EXPECT_EQ(m.resource_path, "/pets/mine");
  m = match_route(snapshot, "GET", "/shop/pets/1.0.0/pets/7");
  EXPECT_EQ(m.resource->uri_template, "/pets/{petId}");
  m = match_route(snapshot, "GET", "/shop/pets/1.0.0/other/thing");
  EXPECT_EQ(m.resource->uri_template, "/*");
}

TEST_F(MatchRoute, DefaultVersionRoutesWithoutTheVersion) {
  auto m = match_route(snapshot, "GET", "/shop/pets/pets/7");
  ASSERT_EQ(m.status, RouteMatch::Status::kMatched);
  EXPECT_EQ(m.resource_path, "/pets/7");
}

TEST_F(MatchRoute, NoApiNoResourceAndOptions) {
  EXPECT_EQ(match_route(snapshot, "GET", "/shop").status, RouteMatch::Status::kNoApi);
  EXPECT_EQ(match_route(snapshot, "GET", "/other/1.0.0/x").status, RouteMatch::Status::kNoApi);
  EXPECT_EQ(match_route(snapshot, "PUT", "/shop/pets/1.0.0/pets").status,
            RouteMatch::Status::kNoResource);
  auto options = match_route(snapshot, "OPTIONS", "/shop/pets/1.0.0/pets/7");
  ASSERT_EQ(options.status, RouteMatch::Status::kOptions);
  EXPECT_EQ(options.allowed_methods, "GET, DELETE, OPTIONS");
}

TEST_F(MatchRoute, HeadFallsBackToGet) {
  auto m = match_route(snapshot, "HEAD", "/shop/pets/1.0.0/pets/7");
  ASSERT_EQ(m.status, RouteMatch::Status::kMatched);
  EXPECT_EQ(m.resource->verb, "GET");
}

TEST_F(MatchRoute, ContextRootMapsToSlash) {
  auto m = match_route(snapshot, "GET", "/shop/pets/1.0.0");
  ASSERT_EQ(m.status, RouteMatch::Status::kMatched);
  EXPECT_EQ(m.resource_path, "/");
}

}  // namespace
}  // namespace portico::gateway
