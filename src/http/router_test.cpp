#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <stdexcept>

#include "common/api_error.h"
#include "http/message.h"

namespace portico::http {
namespace {

Request make_request(std::string method, std::string target) {
  Request request;
  request.method = std::move(method);
  request.target = target;
  request.path = target.substr(0, target.find('?'));
  return request;
}

Handler text(std::string body) {
  return [body](Request&) { return Response::json(200, body); };
}

boost::json::object body_of(const Response& response) {
  return boost::json::parse(response.body).as_object();
}

TEST(Router, DispatchesByMethodAndPath) {
  Router router;
  router.add("GET", "/apis", text("list"));
  router.add("POST", "/apis", text("create"));
  auto get = make_request("GET", "/apis");
  auto post = make_request("POST", "/apis");
  EXPECT_EQ(router.dispatch(get).body, "list");
  EXPECT_EQ(router.dispatch(post).body, "create");
}

TEST(Router, RootPathMatches) {
  Router router;
  router.add("GET", "/", text("root"));
  auto request = make_request("GET", "/");
  EXPECT_EQ(router.dispatch(request).body, "root");
}

TEST(Router, FillsPathParams) {
  Router router;
  router.add("GET", "/apis/{apiId}/documents/{documentId}", [](Request& request) {
    return Response::json(
        200, request.path_params.at("apiId") + "|" + request.path_params.at("documentId"));
  });
  auto request = make_request("GET", "/apis/a1/documents/d2");
  EXPECT_EQ(router.dispatch(request).body, "a1|d2");
}

TEST(Router, PercentDecodesParamsAfterSplitting) {
  Router router;
  router.add("GET", "/apis/{apiId}",
             [](Request& request) { return Response::json(200, request.path_params["apiId"]); });
  auto request = make_request("GET", "/apis/a%2Fb%20c");
  EXPECT_EQ(router.dispatch(request).body, "a/b c");
}

TEST(Router, UsesDecodedPathWhenThereIsNoTarget) {
  Router router;
  router.add("GET", "/apis/{apiId}",
             [](Request& request) { return Response::json(200, request.path_params["apiId"]); });
  Request request;
  request.method = "GET";
  request.path = "/apis/x y";
  EXPECT_EQ(router.dispatch(request).body, "x y");
}

TEST(Router, LiteralSegmentBeatsParamRegisteredEarlier) {
  Router router;
  router.add("GET", "/apis/{apiId}", text("param"));
  router.add("GET", "/apis/search", text("literal"));
  auto literal = make_request("GET", "/apis/search");
  auto param = make_request("GET", "/apis/other");
  EXPECT_EQ(router.dispatch(literal).body, "literal");
  EXPECT_EQ(router.dispatch(param).body, "param");
}

TEST(Router, EarlierLiteralSegmentDecides) {
  Router router;
  router.add("GET", "/{a}/x", text("second-literal"));
  router.add("GET", "/y/{b}", text("first-literal"));
  auto request = make_request("GET", "/y/x");
  EXPECT_EQ(router.dispatch(request).body, "first-literal");
}

TEST(Router, EmptySegmentDoesNotMatchParam) {
  Router router;
  router.add("GET", "/apis/{apiId}", text("x"));
  auto request = make_request("GET", "/apis/");
  EXPECT_EQ(router.dispatch(request).status, 404);
}

TEST(Router, UnknownPathIs404JsonError) {
  Router router;
  router.add("GET", "/apis", text("x"));
  auto request = make_request("GET", "/nothing");
  Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 404);
  auto body = body_of(response);
  EXPECT_EQ(body.at("code").as_int64(), 404);
  EXPECT_EQ(body.at("message").as_string(), "Not Found");
  EXPECT_FALSE(body.at("description").as_string().empty());
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/apis", text("x"));
  router.add("POST", "/apis", text("y"));
  auto request = make_request("DELETE", "/apis");
  Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.get("Allow"), "GET, POST, HEAD");
  auto body = body_of(response);
  EXPECT_EQ(body.at("code").as_int64(), 405);
  EXPECT_EQ(body.at("message").as_string(), "Method Not Allowed");
}

TEST(Router, MethodOfLessSpecificRouteStillServes) {
  Router router;
  router.add("GET", "/apis/{apiId}", text("get"));
  router.add("DELETE", "/apis/special", text("delete"));
  auto request = make_request("GET", "/apis/special");
  EXPECT_EQ(router.dispatch(request).body, "get");
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add("GET", "/apis", text("list"));
  auto request = make_request("HEAD", "/apis");
  Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "list");  // the server drops it on the wire
}

TEST(Router, HeadRouteWinsOverGet) {
  Router router;
  router.add("GET", "/apis", text("get"));
  router.add("HEAD", "/apis", text("head"));
  auto request = make_request("HEAD", "/apis");
  EXPECT_EQ(router.dispatch(request).body, "head");
}

TEST(Router, ApiErrorBecomesItsJsonErrorWithHeaders) {
  Router router;
  router.add("GET", "/secure",
             [](Request&) -> Response { throw ApiError::unauthorized("Invalid \"credentials\""); });
  auto request = make_request("GET", "/secure");
  Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 401);
  EXPECT_TRUE(response.headers.get("WWW-Authenticate"));
  auto body = body_of(response);
  EXPECT_EQ(body.at("code").as_int64(), 401);
  EXPECT_EQ(body.at("message").as_string(), "Unauthorized");
  EXPECT_EQ(body.at("description").as_string(), "Invalid \"credentials\"");
}

TEST(Router, ApiErrorKeepsTheReferenceCode) {
  Router router;
  router.add("GET", "/x", [](Request&) -> Response {
    throw ApiError(429, 900800, "Message throttled out", "quota exceeded");
  });
  auto request = make_request("GET", "/x");
  Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(body_of(response).at("code").as_int64(), 900800);
}

TEST(Router, OtherExceptionBecomes500WithoutItsDetail) {
  Router router;
  router.add("GET", "/boom", [](Request&) -> Response {
    throw std::runtime_error("database password is hunter2");
  });
  auto request = make_request("GET", "/boom");
  Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 500);
  auto body = body_of(response);
  EXPECT_EQ(body.at("code").as_int64(), 500);
  EXPECT_EQ(body.at("message").as_string(), "Internal Server Error");
  EXPECT_EQ(response.body.find("hunter2"), std::string::npos);
}

TEST(Router, NonStandardThrowBecomes500) {
  Router router;
  router.add("GET", "/boom", [](Request&) -> Response { throw 42; });
  auto request = make_request("GET", "/boom");
  EXPECT_EQ(router.dispatch(request).status, 500);
}

TEST(Router, MalformedPercentEncodingInPathIs400) {
  Router router;
  router.add("GET", "/apis/{apiId}", text("x"));
  auto request = make_request("GET", "/apis/%zz");
  EXPECT_EQ(router.dispatch(request).status, 400);
}

TEST(Router, AbsoluteFormTargetRoutesByItsPath) {
  Router router;
  router.add("GET", "/apis/{apiId}",
             [](Request& request) { return Response::json(200, request.path_params["apiId"]); });
  auto request = make_request("GET", "http://example.com/apis/7?x=1");
  request.path = "/apis/7";
  EXPECT_EQ(router.dispatch(request).body, "7");
}

TEST(Router, DuplicateRouteIsRejected) {
  Router router;
  router.add("GET", "/apis/{apiId}", text("x"));
  EXPECT_THROW(router.add("GET", "/apis/{id}", text("y")), std::invalid_argument);
}

TEST(Router, PartialParamSegmentIsRejected) {
  Router router;
  EXPECT_THROW(router.add("GET", "/apis/v{version}", text("x")), std::invalid_argument);
}

TEST(Router, RelativeTemplateIsRejected) {
  Router router;
  EXPECT_THROW(router.add("GET", "apis", text("x")), std::invalid_argument);
}

TEST(RouterBrowserGuard, JsonRouteRefusesTextPlainBodyBeforeTheHandler) {
  Router router;
  bool ran = false;
  router.add("POST", "/users", [&](Request&) {
    ran = true;
    return Response::json(201, "{}");
  });
  auto request = make_request("POST", "/users");
  request.body = R"({"userName":"eve"})";
  request.headers.set("Content-Type", "text/plain");
  EXPECT_EQ(router.dispatch(request).status, 415);
  EXPECT_FALSE(ran);
}

TEST(RouterBrowserGuard, FormRouteTakesItsOwnMediaType) {
  Router router;
  router.add("POST", "/token", BodyType::form, text("token"));
  auto request = make_request("POST", "/token");
  request.body = "grant_type=client_credentials";
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  EXPECT_EQ(router.dispatch(request).body, "token");
}

TEST(RouterBrowserGuard, QueryOnlyPostFromAnotherOriginIs403) {
  Router router;
  bool ran = false;
  router.add("POST", "/change", [&](Request&) {
    ran = true;
    return Response::json(200, "{}");
  });
  auto request = make_request("POST", "/change?action=Publish");
  request.headers.set("Host", "localhost:9443");
  request.headers.set("Origin", "https://evil.example");
  EXPECT_EQ(router.dispatch(request).status, 403);
  EXPECT_FALSE(ran);
  request.headers.remove("Origin");
  EXPECT_EQ(router.dispatch(request).status, 200);
}

}  // namespace
}  // namespace portico::http
