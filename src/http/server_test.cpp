#include "http/server.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/api_error.h"
#include "common/log.h"
#include "http/session.h"
#include "http/testing/raw_client.h"

namespace portico::http {
namespace {

using namespace std::chrono_literals;
using testing::Connection;
using testing::PlainConnection;
using testing::RawResponse;

// Every test starts and stops servers; their info lines would bury gtest's output.
class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
};
const auto* const kQuietLogs = ::testing::AddGlobalTestEnvironment(new QuietLogs);

std::shared_ptr<Router> make_router() {
  auto router = std::make_shared<Router>();
  router->add("GET", "/hello",
              [](Request&) { return Response::json(200, R"({"hello":"world"})"); });
  router->add("GET", "/apis/{apiId}", [](Request& request) {
    return Response::json(200, request.path_params.at("apiId"));
  });
  // Not a JSON route: the tests post raw bytes, which the router leaves to form routes.
  router->add("POST", "/echo", BodyType::form, [](Request& request) {
    Response response = Response::json(200, request.body);
    response.headers.set("X-Method", request.method);
    return response;
  });
  router->add("GET", "/query", [](Request& request) {
    return Response::json(200, request.query_param("q").value_or("<none>") + "|" +
                                   std::to_string(request.query.count("q")));
  });
  router->add("GET", "/whoami", [](Request& request) {
    return Response::json(200, request.remote_address + "|" + (request.secure ? "tls" : "plain") +
                                   "|" + request.path + "|" + request.target);
  });
  router->add("GET", "/header", [](Request& request) {
    return Response::json(200, std::string(request.headers.get("x-probe").value_or("<none>")));
  });
  router->add("GET", "/forbidden", [](Request&) -> Response {
    ApiError error(429, 900800, "Message throttled out", "You have exceeded your quota");
    error.headers["Retry-After"] = "60";
    throw error;
  });
  router->add("GET", "/boom", [](Request&) -> Response {
    throw std::runtime_error("secret detail: connection string postgres://u:p@db");
  });
  router->add("GET", "/no-content", [](Request&) { return Response{204, {}, {}, nullptr}; });
  router->add("GET", "/bad-header", [](Request&) {
    Response response = Response::json(200, "ok");
    response.headers.set("X-Injected", "a\r\nSet-Cookie: evil=1");
    return response;
  });
  router->add("GET", "/close", [](Request&) {
    Response response = Response::json(200, "bye");
    response.headers.set("Connection", "close");
    return response;
  });
  return router;
}

ServerOptions test_options() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.http_port = 0;
  options.threads = 2;
  options.read_timeout = 10s;
  options.idle_timeout = 10s;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = test_options()) {
    server_ = std::make_unique<Server>(options, make_router());
    server_->start();
  }
  void SetUp() override { start(); }
  void TearDown() override {
    if (server_) server_->stop(2s);
  }
  int port() const { return server_->http_port(); }

  // One request on a new connection; the response, or a failed test.
  RawResponse exchange(const std::string& raw, bool head = false) {
    PlainConnection connection(port());
    EXPECT_TRUE(connection.send(raw));
    auto response = connection.read_response(head);
    EXPECT_TRUE(response) << "no response to: " << raw;
    return response.value_or(RawResponse{});
  }

  std::unique_ptr<Server> server_;
};

boost::json::object json_of(const RawResponse& response) {
  return boost::json::parse(response.body).as_object();
}

TEST_F(ServerTest, PortZeroBindsAFreePort) {
  EXPECT_GT(server_->http_port(), 0);
  EXPECT_EQ(server_->https_port(), -1);
}

TEST_F(ServerTest, AnswersGetWithBodyLengthAndType) {
  RawResponse response = exchange(Connection::request("GET", "/hello"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"hello":"world"})");
  EXPECT_EQ(response.header("Content-Length"), std::to_string(response.body.size()));
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_TRUE(response.header("Date"));
}

TEST_F(ServerTest, PathParamsArePercentDecoded) {
  RawResponse response = exchange(Connection::request("GET", "/apis/a%2Fb%20c"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "a/b c");
}

TEST_F(ServerTest, QueryParametersAreDecoded) {
  RawResponse response = exchange(Connection::request("GET", "/query?q=a+b%21&q=2&x"));
  EXPECT_EQ(response.body, "a b!|2");
}

TEST_F(ServerTest, RequestCarriesPathTargetAndRemoteAddress) {
  RawResponse response = exchange(Connection::request("GET", "/whoami?z=1"));
  EXPECT_EQ(response.body, "127.0.0.1|plain|/whoami|/whoami?z=1");
}

TEST_F(ServerTest, HeadersReachTheHandlerCaseInsensitively) {
  RawResponse response = exchange(Connection::request("GET", "/header", "X-PROBE: 42\r\n"));
  EXPECT_EQ(response.body, "42");
}

TEST_F(ServerTest, PostBodyWithContentLengthReachesHandler) {
  RawResponse response = exchange(Connection::request("POST", "/echo", "", "payload"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "payload");
}

TEST_F(ServerTest, ChunkedBodyReachesHandler) {
  RawResponse response = exchange(
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "Wikipedia");
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponseBeforeBody) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send(
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = connection.read_response(true);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.send("abc"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "abc");
}

TEST_F(ServerTest, UnknownPathGets404JsonError) {
  RawResponse response = exchange(Connection::request("GET", "/missing"));
  EXPECT_EQ(response.status, 404);
  auto body = json_of(response);
  EXPECT_EQ(body.at("code").as_int64(), 404);
  EXPECT_EQ(body.at("message").as_string(), "Not Found");
  EXPECT_TRUE(body.contains("description"));
}

TEST_F(ServerTest, WrongMethodGets405WithAllow) {
  RawResponse response = exchange(Connection::request("DELETE", "/hello"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
  EXPECT_EQ(json_of(response).at("code").as_int64(), 405);
}

TEST_F(ServerTest, HeadGetsGetHeadersWithoutBody) {
  PlainConnection connection(port());
  // HEAD then GET on one connection: any body bytes sent for the HEAD would show up as
  // garbage in front of the GET's response.
  ASSERT_TRUE(connection.send(Connection::request("HEAD", "/hello")));
  auto head = connection.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), "17");
  ASSERT_TRUE(connection.send(Connection::request("GET", "/hello")));
  auto get = connection.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, R"({"hello":"world"})");
}

TEST_F(ServerTest, NoContentResponseHasNoLength) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/no-content")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 204);
  EXPECT_FALSE(response->header("Content-Length"));
  ASSERT_TRUE(connection.send(Connection::request("GET", "/hello")));
  auto next = connection.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(ServerTest, ApiErrorBecomesJsonErrorWithItsHeaders) {
  RawResponse response = exchange(Connection::request("GET", "/forbidden"));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("Retry-After"), "60");
  auto body = json_of(response);
  EXPECT_EQ(body.at("code").as_int64(), 900800);
  EXPECT_EQ(body.at("message").as_string(), "Message throttled out");
  EXPECT_EQ(body.at("description").as_string(), "You have exceeded your quota");
}

TEST_F(ServerTest, HandlerExceptionGets500WithoutDetail) {
  RawResponse response = exchange(Connection::request("GET", "/boom"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(json_of(response).at("message").as_string(), "Internal Server Error");
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_EQ(response.body.find("postgres"), std::string::npos);
}

TEST_F(ServerTest, ResponseHeaderWithLineBreakIsDropped) {
  RawResponse response = exchange(Connection::request("GET", "/bad-header"));
  EXPECT_EQ(response.status, 200);
  EXPECT_FALSE(response.header("X-Injected"));
  EXPECT_FALSE(response.header("Set-Cookie"));
}

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  PlainConnection connection(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(connection.send(Connection::request("GET", "/hello")));
    auto response = connection.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_FALSE(response->header("Connection"));
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send(Connection::request("POST", "/echo", "", "one") +
                              Connection::request("GET", "/apis/two") +
                              Connection::request("POST", "/echo", "", "three")));
  for (std::string expected : {"one", "two", "three"}) {
    auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, expected);
  }
}

TEST_F(ServerTest, ConnectionCloseRequestIsAnsweredThenClosed) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/hello", "Connection: close\r\n")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTest, HandlerCanAskToClose) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/close")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTest, Http10ClosesByDefault) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send("GET /hello HTTP/1.0\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTest, Http10KeepAliveKeepsTheConnection) {
  PlainConnection connection(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(connection.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->header("Connection"), "keep-alive");
  }
}

// --- limits ---

class ServerLimitTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = test_options();
    options.max_body_bytes = 1024;
    start(options);
  }
  void expect_error_then_close(const std::string& raw, int status) {
    PlainConnection connection(port());
    connection.send(raw);
    auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, status);
    auto body = json_of(*response);
    EXPECT_EQ(body.at("code").as_int64(), status);
    EXPECT_FALSE(body.at("description").as_string().empty());
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_TRUE(connection.closed_by_peer());
  }
};

TEST_F(ServerLimitTest, RequestLineOver8KiBGets414) {
  expect_error_then_close(Connection::request("GET", "/" + std::string(9000, 'a')), 414);
}

TEST_F(ServerLimitTest, RequestLineJustUnder8KiBIsServed) {
  std::string target = "/apis/" + std::string(8192 - 6 - 13, 'a');  // "GET " + " HTTP/1.1"
  ASSERT_EQ(("GET " + target + " HTTP/1.1").size(), 8192u);
  RawResponse response = exchange(Connection::request("GET", target));
  EXPECT_EQ(response.status, 200);
}

TEST_F(ServerLimitTest, RequestLineWithoutEndGets414WithoutWaiting) {
  // No CRLF at all: the limit, not the read timeout, ends it.
  expect_error_then_close("GET /" + std::string(10000, 'a'), 414);
}

TEST_F(ServerLimitTest, HeaderSectionOver64KiBGets431) {
  std::string headers;
  for (int i = 0; i < 20; ++i)
    headers += "X-Big-" + std::to_string(i) + ": " + std::string(4000, 'v') + "\r\n";
  expect_error_then_close(Connection::request("GET", "/hello", headers), 431);
}

TEST_F(ServerLimitTest, SingleHugeHeaderGets431) {
  expect_error_then_close(
      Connection::request("GET", "/hello", "X-Huge: " + std::string(70000, 'v') + "\r\n"), 431);
}

TEST_F(ServerLimitTest, MoreThan100HeaderFieldsGets431) {
  std::string headers;
  for (int i = 0; i < 101; ++i) headers += "X-H" + std::to_string(i) + ": v\r\n";
  expect_error_then_close(Connection::request("GET", "/hello", headers), 431);
}

TEST_F(ServerLimitTest, ExactlyMaxHeaderFieldsIsServed) {
  std::string headers;
  for (int i = 0; i < 99; ++i) headers += "X-H" + std::to_string(i) + ": v\r\n";  // + Host
  EXPECT_EQ(exchange(Connection::request("GET", "/hello", headers)).status, 200);
}

TEST_F(ServerLimitTest, AnnouncedBodyOverLimitGets413BeforeItIsSent) {
  // Only the head is sent: the answer must not wait for the 2000 bytes.
  expect_error_then_close("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", 413);
}

TEST_F(ServerLimitTest, ChunkedBodyOverLimitGets413) {
  std::string chunk(600, 'x');
  expect_error_then_close(
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
          chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n",
      413);
}

TEST_F(ServerLimitTest, BodyAtLimitIsServed) {
  RawResponse response = exchange(Connection::request("POST", "/echo", "", std::string(1024, 'b')));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body.size(), 1024u);
}

// --- malformed requests: 400 and the connection closed ---

struct MalformedCase {
  const char* name;
  std::string raw;
  int status = 400;
};

// ctest shows the case's name rather than its bytes.
void PrintTo(const MalformedCase& c, std::ostream* os) {
  *os << c.name;
}

class MalformedRequestTest : public ServerTest,
                             public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(MalformedRequestTest, GetsErrorAndConnectionIsClosed) {
  PlainConnection connection(port());
  connection.send(GetParam().raw);
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, GetParam().status);
  auto body = json_of(*response);
  EXPECT_EQ(body.at("code").as_int64(), GetParam().status);
  EXPECT_FALSE(body.at("description").as_string().empty());
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(connection.closed_by_peer());
}

const std::string kPost = "POST /echo HTTP/1.1\r\nHost: a\r\n";

INSTANTIATE_TEST_SUITE_P(
    Framing, MalformedRequestTest,
    ::testing::Values(
        MalformedCase{"NonNumericContentLength", kPost + "Content-Length: abc\r\n\r\n"},
        MalformedCase{"NegativeContentLength", kPost + "Content-Length: -1\r\n\r\n"},
        MalformedCase{"SignedContentLength", kPost + "Content-Length: +3\r\n\r\nabc"},
        MalformedCase{"FractionalContentLength", kPost + "Content-Length: 1.5\r\n\r\nab"},
        MalformedCase{"ContentLengthList", kPost + "Content-Length: 3, 3\r\n\r\nabc"},
        MalformedCase{"OverflowingContentLength",
                      kPost + "Content-Length: 99999999999999999999999\r\n\r\n"},
        MalformedCase{"DifferingContentLengths",
                      kPost + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
        MalformedCase{"EqualDuplicateContentLengths",
                      kPost + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"},
        MalformedCase{"ContentLengthWithTransferEncoding",
                      kPost + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        MalformedCase{"ChunkedWithTrailingSpace",
                      kPost + "Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n"},
        MalformedCase{"ChunkedWithTrailingTab",
                      kPost + "Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n"},
        MalformedCase{"XChunked", kPost + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
        MalformedCase{"ChunkedThenIdentity",
                      kPost + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
        MalformedCase{"IdentityTransferEncoding", kPost + "Transfer-Encoding: identity\r\n\r\n"},
        MalformedCase{"TwoTransferEncodings",
                      kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\n\r\n"},
        MalformedCase{"TransferEncodingInHttp10",
                      "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        MalformedCase{"NonHexChunkSize",
                      kPost + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
        MalformedCase{"NegativeChunkSize",
                      kPost + "Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n"},
        MalformedCase{"ChunkLongerThanItsSize",
                      kPost + "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Syntax, MalformedRequestTest,
    ::testing::Values(
        MalformedCase{"ControlCharacterInHeaderValue",
                      "GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\x01"
                      "c\r\n\r\n"},
        MalformedCase{"NulInHeaderValue",
                      std::string("GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 42)},
        MalformedCase{"ControlCharacterInHeaderName",
                      "GET /hello HTTP/1.1\r\nHost: a\r\nX\x01"
                      "A: b\r\n\r\n"},
        MalformedCase{"SpaceBeforeColon", "GET /hello HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"},
        MalformedCase{"HeaderWithoutColon", "GET /hello HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n"},
        MalformedCase{"ControlCharacterInRequestLine",
                      "GET /he\x01llo HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"TabInRequestLine", "GET\t/hello HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"ObsFoldWithSpace", "GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"},
        MalformedCase{"ObsFoldWithTab", "GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"},
        MalformedCase{"BareLfLineEndings", "GET /hello HTTP/1.1\nHost: a\n\n"},
        MalformedCase{"BareLfInOneHeaderLine", "GET /hello HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n"},
        MalformedCase{"BareCrInHeader", "GET /hello HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n"},
        MalformedCase{"BareCrLineEndings", "GET /hello HTTP/1.1\rHost: a\r\r"},
        MalformedCase{"MissingHostInHttp11", "GET /hello HTTP/1.1\r\n\r\n"},
        MalformedCase{"TwoHosts", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        MalformedCase{"TwoEqualHosts", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"},
        MalformedCase{"InvalidHost", "GET /hello HTTP/1.1\r\nHost: a b/c\r\n\r\n"},
        MalformedCase{"InvalidMethodToken", "G(E)T /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"EmptyMethod", " /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"TwoSpacesInRequestLine", "GET  /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"MissingVersion", "GET /hello\r\nHost: a\r\n\r\n"},
        MalformedCase{"LowercaseVersion", "GET /hello http/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"GarbageVersion", "GET /hello HTTP/1.1x\r\nHost: a\r\n\r\n"},
        MalformedCase{"Http2Version", "GET /hello HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        MalformedCase{"Http09Version", "GET /hello HTTP/0.9\r\nHost: a\r\n\r\n", 505},
        MalformedCase{"MalformedPercentEncodingInPath",
                      "GET /apis/%zz HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"MalformedPercentEncodingInQuery",
                      "GET /query?q=%2 HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"RelativeTarget", "GET hello HTTP/1.1\r\nHost: a\r\n\r\n"},
        MalformedCase{"UnknownExpectation",
                      "GET /hello HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417}),
    [](const auto& info) { return std::string(info.param.name); });

// --- timeouts ---

class ServerTimeoutTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = test_options();
    options.read_timeout = 1s;
    options.idle_timeout = 1s;
    start(options);
  }
};

TEST_F(ServerTimeoutTest, IdleKeepAliveConnectionIsClosed) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/hello")));
  ASSERT_TRUE(connection.read_response());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);
}

TEST_F(ServerTimeoutTest, ConnectionWithoutRequestIsClosed) {
  PlainConnection connection(port());
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTimeoutTest, HalfSentRequestIsClosed) {
  PlainConnection connection(port());
  ASSERT_TRUE(connection.send("GET /hello HTTP/1.1\r\nHost: a\r\n"));
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTimeoutTest, SlowlyTrickledRequestIsClosedByReadTimeout) {
  PlainConnection connection(port());
  // Each byte resets no timer: the whole request must arrive within read_timeout.
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    closed = !connection.send("X");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(closed || connection.closed_by_peer());
}

// --- lifecycle ---

TEST(ServerLifecycle, StartThrowsNamingAddressWhenPortIsTaken) {
  Server first(test_options(), make_router());
  first.start();
  ServerOptions options = test_options();
  options.http_port = first.http_port();
  Server second(options, make_router());
  try {
    second.start();
    FAIL() << "expected start to throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.http_port())),
              std::string::npos)
        << e.what();
  }
  first.stop(1s);
}

// A starter (the gateway's proxy) keeps per-thread state without locks: it must be called on
// the thread of the worker it is given, whichever worker that is.
class RecordingStarter final : public detail::SessionStarter {
 public:
  void start(detail::ServerContext&, detail::Worker& worker, boost::asio::ip::tcp::socket socket,
             boost::asio::ssl::context*) override {
    std::lock_guard lock(mutex_);
    on_worker_thread_.push_back(worker.io.get_executor().running_in_this_thread());
    workers_.insert(&worker);
    socket.close();
    started_.notify_all();
  }
  // Waits for `count` calls; whether each ran on its worker's thread, and how many workers.
  std::pair<std::vector<bool>, std::size_t> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    started_.wait_for(lock, 10s, [&] { return on_worker_thread_.size() >= count; });
    return {on_worker_thread_, workers_.size()};
  }

 private:
  std::mutex mutex_;
  std::condition_variable started_;
  std::vector<bool> on_worker_thread_;
  std::set<const detail::Worker*> workers_;
};

TEST(ServerLifecycle, ASessionStarterIsCalledOnTheThreadOfItsWorker) {
  auto starter = std::make_shared<RecordingStarter>();
  Server server(test_options(), starter);
  server.start();
  std::vector<std::unique_ptr<PlainConnection>> connections;
  for (int i = 0; i < 6; ++i)
    connections.push_back(std::make_unique<PlainConnection>(server.http_port()));
  auto [on_worker_thread, workers] = starter->wait_for(6);
  EXPECT_EQ(on_worker_thread, std::vector<bool>(6, true));
  EXPECT_EQ(workers, 2u);  // both of the two workers were given connections
  server.stop(1s);
}

TEST(ServerLifecycle, StopWithoutStartIsHarmless) {
  Server server(test_options(), make_router());
  server.stop(1s);
}

TEST(ServerLifecycle, DestructorStopsARunningServer) {
  int port;
  {
    Server server(test_options(), make_router());
    server.start();
    port = server.http_port();
  }
  PlainConnection connection(port);
  EXPECT_FALSE(connection.connected());
}

struct SlowRouter {
  std::shared_ptr<Router> router = std::make_shared<Router>();
  std::promise<void> entered;
  std::atomic<bool> finished{false};

  explicit SlowRouter(std::chrono::milliseconds delay) {
    router->add("GET", "/hello", [](Request&) { return Response::json(200, "hi"); });
    router->add("GET", "/slow", [this, delay](Request&) {
      entered.set_value();
      std::this_thread::sleep_for(delay);
      finished = true;
      return Response::json(200, "done");
    });
  }
};

TEST(ServerLifecycle, GracefulStopLetsInFlightRequestFinish) {
  SlowRouter slow(1500ms);
  ServerOptions options = test_options();
  options.threads = 1;
  Server server(options, slow.router);
  server.start();

  auto connection = std::make_unique<PlainConnection>(server.http_port());
  ASSERT_TRUE(connection->send(Connection::request("GET", "/slow")));
  slow.entered.get_future().wait();
  std::thread stopper([&] { server.stop(10s); });

  auto response = connection->read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(connection->closed_by_peer());
  connection.reset();
  stopper.join();
  EXPECT_TRUE(slow.finished);
}

TEST(ServerLifecycle, StopClosesIdleKeepAliveConnections) {
  Server server(test_options(), make_router());
  server.start();
  PlainConnection connection(server.http_port());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/hello")));
  ASSERT_TRUE(connection.read_response());

  auto start = std::chrono::steady_clock::now();
  server.stop(30s);
  // Idle connections do not hold up the drain.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST(ServerLifecycle, StopStopsAcceptingWhileARequestIsStillRunning) {
  SlowRouter slow(3000ms);
  ServerOptions options = test_options();
  options.threads = 1;
  Server server(options, slow.router);
  server.start();
  int port = server.http_port();
  auto busy = std::make_unique<PlainConnection>(port);
  ASSERT_TRUE(busy->send(Connection::request("GET", "/slow")));
  slow.entered.get_future().wait();
  std::thread stopper([&] { server.stop(10s); });

  bool refused = false;
  for (int i = 0; i < 100 && !refused && !slow.finished; ++i) {
    refused = !PlainConnection(port).connected();
    if (!refused) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(refused);
  EXPECT_FALSE(slow.finished);  // the listener closed although the only worker was busy
  ASSERT_TRUE(busy->read_response());
  busy.reset();
  stopper.join();
}

TEST(ServerLifecycle, StopClosesIncompleteRequestAfterDrain) {
  Server server(test_options(), make_router());
  server.start();
  PlainConnection connection(server.http_port());
  ASSERT_TRUE(connection.send("GET /hello HTTP/1.1\r\nHost: a\r\n"));
  std::this_thread::sleep_for(200ms);  // let the server see the partial head
  auto start = std::chrono::steady_clock::now();
  server.stop(1s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);
  EXPECT_TRUE(connection.closed_by_peer());
}

// A handler that holds its worker's thread until the test releases it.
struct GatedRouter {
  std::shared_ptr<Router> router = std::make_shared<Router>();
  std::promise<void> entered;
  std::promise<void> release;

  GatedRouter() {
    router->add("GET", "/hello", [](Request&) { return Response::json(200, "hi"); });
    router->add("GET", "/gate", [this](Request&) {
      entered.set_value();
      release.get_future().wait();
      return Response::json(200, "released");
    });
  }
};

TEST(ServerLifecycle, DrainReturnsAtOnceAndNewConnectionsAreRefused) {
  GatedRouter gated;
  ServerOptions options = test_options();
  options.threads = 1;
  Server server(options, gated.router);
  server.start();
  int port = server.http_port();
  PlainConnection busy(port);
  ASSERT_TRUE(busy.send(Connection::request("GET", "/gate")));
  gated.entered.get_future().wait();

  server.drain();  // returns although the only worker is busy
  bool refused = false;
  for (int i = 0; i < 250 && !refused; ++i) {
    refused = !PlainConnection(port).connected();
    if (!refused) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(refused);

  gated.release.set_value();
  auto response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "released");
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(busy.closed_by_peer());
  server.stop(10s);
}

TEST(ServerLifecycle, ARequestAlreadyArrivedOnAnIdleConnectionWhenTheDrainBeginsIsAnswered) {
  GatedRouter gated;
  ServerOptions options = test_options();
  options.threads = 1;
  Server server(options, gated.router);
  server.start();
  PlainConnection kept_alive(server.http_port());
  ASSERT_TRUE(kept_alive.send(Connection::request("GET", "/hello")));
  ASSERT_TRUE(kept_alive.read_response());

  // The only worker is held, so the next request on the idle connection waits in the
  // kernel, unread, when the drain reaches the connection.
  PlainConnection busy(server.http_port());
  ASSERT_TRUE(busy.send(Connection::request("GET", "/gate")));
  gated.entered.get_future().wait();
  ASSERT_TRUE(kept_alive.send(Connection::request("GET", "/hello")));
  std::this_thread::sleep_for(100ms);  // the request reaches the server's kernel
  server.drain();
  gated.release.set_value();

  auto response = kept_alive.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(kept_alive.closed_by_peer());
  ASSERT_TRUE(busy.read_response());
  server.stop(10s);
}

TEST(ServerLifecycle, AConnectionAcceptedJustBeforeTheDrainHasItsFirstRequestAnswered) {
  GatedRouter gated;
  ServerOptions options = test_options();
  options.threads = 1;
  Server server(options, gated.router);
  server.start();
  PlainConnection busy(server.http_port());
  ASSERT_TRUE(busy.send(Connection::request("GET", "/gate")));
  gated.entered.get_future().wait();
  // Accepted, but its session starts only once the worker is free, after the drain began.
  PlainConnection fresh(server.http_port());
  ASSERT_TRUE(fresh.connected());
  std::this_thread::sleep_for(100ms);  // the accept thread hands it to the held worker
  server.drain();
  gated.release.set_value();
  ASSERT_TRUE(busy.read_response());

  ASSERT_TRUE(fresh.send(Connection::request("GET", "/hello")));
  auto response = fresh.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("Connection"), "close");
  server.stop(10s);
}

TEST(ServerLifecycle, ServesManyConnectionsAcrossThreads) {
  ServerOptions options = test_options();
  options.threads = 3;
  Server server(options, make_router());
  server.start();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      PlainConnection connection(server.http_port());
      for (int j = 0; j < 5; ++j) {
        connection.send(Connection::request("GET", "/apis/" + std::to_string(i * 10 + j)));
        auto response = connection.read_response();
        if (response && response->body == std::to_string(i * 10 + j)) ++ok;
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok, 40);
  server.stop(1s);
}

}  // namespace
}  // namespace portico::http
