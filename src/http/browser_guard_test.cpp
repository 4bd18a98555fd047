#include "http/browser_guard.h"

#include <gtest/gtest.h>

namespace portico::http {
namespace {

Request request(std::string method, std::string body = "", std::string content_type = "") {
  Request r;
  r.method = std::move(method);
  r.target = r.path = "/x";
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.set("Content-Type", content_type);
  r.headers.set("Host", "localhost:9443");
  return r;
}

TEST(JsonMediaType, AcceptsJsonAndPlusJsonWithParameters) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/scim+json"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("text/plain; application/json"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_media_type(""));
}

TEST(BodyMediaType, JsonRouteRefusesTextPlainAndMissingTypeWith415) {
  auto plain = refuse_body_media_type(request("POST", "{}", "text/plain"), BodyType::json);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 415);
  EXPECT_TRUE(refuse_body_media_type(request("POST", "{}"), BodyType::json));
  EXPECT_TRUE(refuse_body_media_type(request("PUT", "{}", "application/x-www-form-urlencoded"),
                                     BodyType::json));
}

TEST(BodyMediaType, JsonBodiesEmptyBodiesAndOtherRoutesPass) {
  EXPECT_FALSE(refuse_body_media_type(request("POST", "{}", "application/json"), BodyType::json));
  EXPECT_FALSE(refuse_body_media_type(request("POST"), BodyType::json));
  EXPECT_FALSE(refuse_body_media_type(request("POST", "a=b", "application/x-www-form-urlencoded"),
                                      BodyType::form));
  EXPECT_FALSE(refuse_body_media_type(request("POST", "--x", "text/plain"), BodyType::multipart));
}

TEST(SameOrigin, ComparesHostAndPortWithTheSchemesDefault) {
  EXPECT_TRUE(is_same_origin("https://localhost:9443", "localhost:9443"));
  EXPECT_TRUE(is_same_origin("https://API.example.com", "api.example.com"));
  EXPECT_TRUE(is_same_origin("https://api.example.com", "api.example.com:443"));
  EXPECT_TRUE(is_same_origin("http://[::1]:9763", "[::1]:9763"));
  EXPECT_FALSE(is_same_origin("https://evil.example", "localhost:9443"));
  EXPECT_FALSE(is_same_origin("https://localhost:9444", "localhost:9443"));
  EXPECT_FALSE(is_same_origin("http://api.example.com", "api.example.com:443"));
  EXPECT_FALSE(is_same_origin("null", "localhost:9443"));
  EXPECT_FALSE(is_same_origin("https://localhost:9443", ""));
}

TEST(CrossSite, StateChangingRequestFromAnotherOriginWithoutJsonBodyIs403) {
  auto r = request("POST");
  r.headers.set("Origin", "https://evil.example");
  auto refused = refuse_cross_site_request(r);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  r.headers.set("Origin", "null");
  EXPECT_TRUE(refuse_cross_site_request(r));
}

TEST(CrossSite, SameOriginNoOriginReadsAndJsonBodiesPass) {
  auto same = request("POST");
  same.headers.set("Origin", "https://localhost:9443");
  EXPECT_FALSE(refuse_cross_site_request(same));
  EXPECT_FALSE(refuse_cross_site_request(request("DELETE")));
  auto get = request("GET");
  get.headers.set("Origin", "https://evil.example");
  EXPECT_FALSE(refuse_cross_site_request(get));
  auto json = request("POST", "{}", "application/json");
  json.headers.set("Origin", "https://evil.example");
  EXPECT_FALSE(refuse_cross_site_request(json));
}

TEST(BasicChallenge, RemovedKeepingTheOthers) {
  EXPECT_EQ(without_basic_challenge(R"(Basic realm="portico", Bearer realm="portico")"),
            R"(Bearer realm="portico")");
  EXPECT_EQ(
      without_basic_challenge(R"(Bearer realm="a, b", error="invalid_token", Basic realm="x")"),
      R"(Bearer realm="a, b", error="invalid_token")");
  EXPECT_EQ(without_basic_challenge(R"(Basic realm="portico")"), "");
}

TEST(BasicChallenge, HiddenOnlyFromBrowsers) {
  Response response = Response::error(401, 900902, "Missing Credentials", "");
  response.headers.set("WWW-Authenticate", R"(Basic realm="portico", Bearer realm="portico")");
  Response for_curl = response;
  hide_basic_challenge_from_browsers(request("GET"), for_curl);
  EXPECT_EQ(for_curl.headers.get("WWW-Authenticate"),
            R"(Basic realm="portico", Bearer realm="portico")");

  auto browser = request("GET");
  browser.headers.set("Sec-Fetch-Mode", "navigate");
  hide_basic_challenge_from_browsers(browser, response);
  EXPECT_EQ(response.headers.get("WWW-Authenticate"), R"(Bearer realm="portico")");

  Response basic_only = Response::error(401, 401, "Unauthorized", "");
  basic_only.headers.set("WWW-Authenticate", R"(Basic realm="portico")");
  hide_basic_challenge_from_browsers(browser, basic_only);
  EXPECT_FALSE(basic_only.headers.get("WWW-Authenticate"));
}

}  // namespace
}  // namespace portico::http
