#include "http/message.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace portico::http {
namespace {

TEST(Headers, GetIgnoresCase) {
  Headers headers;
  headers.add("Content-Type", "text/plain");
  EXPECT_EQ(headers.get("content-type"), "text/plain");
  EXPECT_EQ(headers.get("CONTENT-TYPE"), "text/plain");
  EXPECT_FALSE(headers.get("Content-Length"));
}

TEST(Headers, GetReturnsFirstOfRepeatedFields) {
  Headers headers;
  headers.add("Set-Cookie", "a=1");
  headers.add("set-cookie", "b=2");
  EXPECT_EQ(headers.get("Set-Cookie"), "a=1");
  EXPECT_EQ(headers.fields().size(), 2u);
}

TEST(Headers, SetReplacesEveryFieldOfThatName) {
  Headers headers;
  headers.add("X-A", "1");
  headers.add("x-a", "2");
  headers.add("X-B", "3");
  headers.set("X-a", "4");
  ASSERT_EQ(headers.fields().size(), 2u);
  EXPECT_EQ(headers.get("x-a"), "4");
  EXPECT_EQ(headers.get("x-b"), "3");
}

TEST(Headers, RemoveIgnoresCase) {
  Headers headers;
  headers.add("Authorization", "Bearer x");
  headers.remove("authorization");
  EXPECT_TRUE(headers.fields().empty());
}

TEST(Request, QueryParamReturnsFirstValue) {
  Request request;
  request.query = {{"a", "1"}, {"a", "2"}, {"b", "3"}};
  EXPECT_EQ(request.query_param("a"), "1");
  EXPECT_EQ(request.query_param("b"), "3");
  EXPECT_FALSE(request.query_param("c"));
}

TEST(Response, JsonSetsContentType) {
  Response response = Response::json(201, R"({"id":1})");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(response.body, R"({"id":1})");
}

TEST(Response, HtmlSetsContentTypeWithCharset) {
  Response response = Response::html(200, "<p>hi</p>");
  EXPECT_EQ(response.headers.get("Content-Type"), "text/html; charset=utf-8");
}

TEST(Response, ErrorHasTheReferenceShapeWithNumericCode) {
  Response response = Response::error(404, 404, "Not Found", "No such API");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(response.body, R"({"code":404,"message":"Not Found","description":"No such API"})");
}

TEST(Response, ErrorEscapesStrings) {
  Response response = Response::error(400, 900901, "Bad \"input\"", "line\nbreak\\ \x01");
  auto parsed = boost::json::parse(response.body).as_object();
  EXPECT_EQ(parsed.at("code").as_int64(), 900901);
  EXPECT_EQ(parsed.at("message").as_string(), "Bad \"input\"");
  EXPECT_EQ(parsed.at("description").as_string(), "line\nbreak\\ \x01");
}

TEST(ParseForm, DecodesPlusAsSpaceAndPercentEscapes) {
  auto form = parse_form("grant_type=client_credentials&scope=read+write&note=a%2Bb%20c");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->find("grant_type")->second, "client_credentials");
  EXPECT_EQ(form->find("scope")->second, "read write");
  EXPECT_EQ(form->find("note")->second, "a+b c");
}

TEST(ParseForm, DecodesNames) {
  auto form = parse_form("a%5Bb%5D=1");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->count("a[b]"), 1u);
}

TEST(ParseForm, KeepsRepeatedNames) {
  auto form = parse_form("scope=a&scope=b");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->count("scope"), 2u);
}

TEST(ParseForm, NameWithoutEqualsHasEmptyValue) {
  auto form = parse_form("flag&x=");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->find("flag")->second, "");
  EXPECT_EQ(form->find("x")->second, "");
}

TEST(ParseForm, SkipsEmptyPairs) {
  auto form = parse_form("&a=1&&b=2&");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->size(), 2u);
}

TEST(ParseForm, EmptyBodyIsEmptyForm) {
  auto form = parse_form("");
  ASSERT_TRUE(form);
  EXPECT_TRUE(form->empty());
}

TEST(ParseForm, MalformedPercentEncodingIsRejected) {
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_FALSE(parse_form("a=%2"));
  EXPECT_FALSE(parse_form("a=100%"));
  EXPECT_FALSE(parse_form("%g1=x"));
}

}  // namespace
}  // namespace portico::http

namespace portico::http {

TEST(PercentEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(percent_encode("name:pets-1.0_~"), "name%3Apets-1.0_~");
  EXPECT_EQ(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

}  // namespace portico::http
