#include "gateway/client_request.h"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <string>

namespace portico::gateway {
namespace {

namespace bhttp = boost::beast::http;
using http::detail::RequestHeadScanner;

// `raw` scanned as the session scans it, then assigned.
void assign(ClientRequest& request, std::string_view raw) {
  http::detail::HeadLimits limits;
  limits.max_body_bytes = UINT64_MAX;
  RequestHeadScanner scanner(limits);
  ASSERT_EQ(scanner.scan(raw), RequestHeadScanner::Status::kComplete)
      << scanner.error().description;
  request.assign(raw, scanner);
}

TEST(ClientRequest, HasTheRequestLineAndTrimmedFieldsInOrder) {
  ClientRequest request;
  assign(request,
         "\r\nGET /pets/1?x=y HTTP/1.1\r\nHost: api.test\r\nX-A:  one \t\r\nx-a: two\r\n\r\nNEXT");
  EXPECT_EQ(request.method(), bhttp::verb::get);
  EXPECT_EQ(request.method_string(), "GET");
  EXPECT_EQ(request.target(), "/pets/1?x=y");
  EXPECT_EQ(request.version_minor(), 1);
  ASSERT_EQ(request.fields().size(), 3u);
  EXPECT_EQ(request.fields()[0].known, bhttp::field::host);
  EXPECT_EQ(request.fields()[1].name, "X-A");
  EXPECT_EQ(request.fields()[1].value, "one");
  EXPECT_EQ(request.fields()[2].known, bhttp::field::unknown);
  EXPECT_EQ(request.find("x-A"), "one");  // the first of that name, whatever its case
  EXPECT_EQ(request.find("missing"), std::nullopt);
  EXPECT_EQ(request[bhttp::field::host], "api.test");
  EXPECT_EQ(request[bhttp::field::cookie], "");
  EXPECT_FALSE(request.has_body());
}

TEST(ClientRequest, KeepsItsOwnCopyOfTheHead) {
  ClientRequest request;
  std::string raw = "GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\n\r\n";
  assign(request, raw);
  raw.assign(raw.size(), 'x');  // the receive buffer is reused for the body
  EXPECT_EQ(request.target(), "/a");
  EXPECT_EQ(request.find("authorization"), "Bearer t");
}

TEST(ClientRequest, ReassignedItForgetsThePreviousRequest) {
  ClientRequest request;
  assign(request, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Old: 1\r\n\r\n");
  EXPECT_TRUE(request.has_body());
  assign(request, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(request.target(), "/b");
  EXPECT_FALSE(request.has_body());
  EXPECT_EQ(request.find("X-Old"), std::nullopt);
  EXPECT_EQ(request.fields().size(), 1u);
}

TEST(ClientRequest, KeepAliveFollowsTheVersionAndConnection) {
  struct Case {
    std::string_view version, connection;
    bool keep_alive;
  };
  for (const Case& c :
       {Case{"HTTP/1.1", "", true}, Case{"HTTP/1.1", "close", false},
        Case{"HTTP/1.1", "Upgrade, CLOSE", false}, Case{"HTTP/1.1", "keep-alive", true},
        Case{"HTTP/1.0", "", false}, Case{"HTTP/1.0", "Keep-Alive", true},
        Case{"HTTP/1.0", "keep-alive, close", false}}) {
    ClientRequest request;
    std::string raw = "GET / " + std::string(c.version) + "\r\nHost: h\r\n";
    if (!c.connection.empty()) raw += "Connection: " + std::string(c.connection) + "\r\n";
    assign(request, raw + "\r\n");
    EXPECT_EQ(request.keep_alive(), c.keep_alive) << c.version << " " << c.connection;
  }
}

TEST(ClientRequest, ABodyIsALengthAboveZeroOrChunks) {
  ClientRequest request;
  assign(request, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(request.has_body());
  EXPECT_EQ(request.content_length(), 0u);
  assign(request, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n");
  EXPECT_TRUE(request.has_body());
  EXPECT_FALSE(request.chunked());
  assign(request, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(request.has_body());
  EXPECT_TRUE(request.chunked());
  EXPECT_EQ(request.content_length(), std::nullopt);
}

// Beast's parser, given the framing head, then the body bytes, reads exactly the body.
std::string body_through_beast(const ClientRequest& request, std::string_view wire) {
  std::array<char, 64> scratch;
  std::string_view head = request.body_framing_head(scratch);
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  EXPECT_EQ(parser.put(boost::asio::buffer(head.data(), head.size()), ec), head.size());
  EXPECT_FALSE(ec) << ec.message();
  std::size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(wire.substr(used), "NEXT");  // the next pipelined request is left alone
  return parser.get().body();
}

TEST(ClientRequest, ItsFramingHeadLetsBeastReadTheBody) {
  ClientRequest request;
  assign(request, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n");
  std::array<char, 64> scratch;
  EXPECT_TRUE(request.body_framing_head(scratch).ends_with(
      "Content-Length: 18446744073709551615\r\n\r\n"));  // the longest length fits
  assign(request, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(body_through_beast(request, "helloNEXT"), "hello");
  assign(request, "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(body_through_beast(request, "3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\nNEXT"), "hello");
}

}  // namespace
}  // namespace portico::gateway
