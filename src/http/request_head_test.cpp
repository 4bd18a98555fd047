#include "http/request_head.h"

#include <gtest/gtest.h>

namespace portico::http::detail {
namespace {

using Status = RequestHeadScanner::Status;

TEST(RequestHeadScanner, CompletesAtBlankLine) {
  RequestHeadScanner scanner({});
  std::string data = "GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
  EXPECT_EQ(scanner.scan(data), Status::kComplete);
  EXPECT_EQ(scanner.head_size(), data.size() - 4);
  EXPECT_EQ(scanner.info().version_minor, 1);
}

TEST(RequestHeadScanner, ByteByByteGivesTheSameResult) {
  RequestHeadScanner scanner({});
  std::string data = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  for (std::size_t n = 1; n < data.size(); ++n) {
    ASSERT_EQ(scanner.scan(std::string_view(data).substr(0, n)), Status::kNeedMore) << n;
  }
  EXPECT_EQ(scanner.scan(data), Status::kComplete);
  EXPECT_EQ(scanner.info().content_length, 5u);
}

// Long values are checked 16 bytes at a time: a control character is found wherever it
// sits (in a full block or in the tail), and HTAB, SP and obs-text pass everywhere.
TEST(RequestHeadScanner, ControlCharacterAnywhereInALongValueIsRefused) {
  const std::string value(40, 'v');
  for (unsigned char bad : {0x00, 0x01, 0x08, 0x0b, 0x1f, 0x7f}) {
    for (std::size_t at = 0; at < value.size(); ++at) {
      std::string v = value;
      v[at] = static_cast<char>(bad);
      RequestHeadScanner scanner({});
      std::string data = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + v + "\r\n\r\n";
      ASSERT_EQ(scanner.scan(data), Status::kError) << int(bad) << " at " << at;
      EXPECT_EQ(scanner.error().description, "Control character in a header field value");
    }
  }
}

TEST(RequestHeadScanner, TabSpaceAndObsTextAreAllowedInAValue) {
  std::string value;
  for (int i = 0; i < 40; ++i) value += "\t \x80\xff~"[i % 5];
  RequestHeadScanner scanner({});
  std::string data = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: a" + value + "z\r\n\r\n";
  EXPECT_EQ(scanner.scan(data), Status::kComplete);
}

TEST(RequestHeadScanner, CrAtEndOfDataWaitsForTheNextByte) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r"), Status::kNeedMore);
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\rX"), Status::kError);
  EXPECT_EQ(scanner.error().status, 400);
}

TEST(RequestHeadScanner, RequestLineAtLimitIsAccepted) {
  HeadLimits limits;
  limits.max_request_line_bytes = 64;
  RequestHeadScanner scanner(limits);
  std::string line = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 64u);
  EXPECT_EQ(scanner.scan(line + "\r\nHost: a\r\n\r\n"), Status::kComplete);
}

TEST(RequestHeadScanner, RequestLineOverLimitIs414BeforeItEnds) {
  HeadLimits limits;
  limits.max_request_line_bytes = 64;
  RequestHeadScanner scanner(limits);
  EXPECT_EQ(scanner.scan("GET /" + std::string(100, 'a')), Status::kError);
  EXPECT_EQ(scanner.error().status, 414);
}

TEST(RequestHeadScanner, HeaderBytesOverLimitIs431) {
  HeadLimits limits;
  limits.max_header_bytes = 100;
  RequestHeadScanner scanner(limits);
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nX: " + std::string(200, 'a')), Status::kError);
  EXPECT_EQ(scanner.error().status, 431);
}

TEST(RequestHeadScanner, LeadingEmptyLinesAreSkipped) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(scanner.info().request_line_offset, 4u);
}

TEST(RequestHeadScanner, LocatesTheMethodTargetAndEachField) {
  RequestHeadScanner scanner({});
  std::string_view data = "\r\nPATCH /a/b?c=d HTTP/1.1\r\nHost: h\r\nX-Long:  v 1 \r\n\r\n";
  ASSERT_EQ(scanner.scan(data), Status::kComplete);
  const HeadInfo& info = scanner.info();
  EXPECT_EQ(data.substr(info.request_line_offset, info.method_size), "PATCH");
  EXPECT_EQ(data.substr(info.target_offset, info.target_size), "/a/b?c=d");
  ASSERT_EQ(scanner.fields().size(), 2u);
  const FieldSpan& second = scanner.fields()[1];
  EXPECT_EQ(data.substr(second.name_offset, second.name_size), "X-Long");
  EXPECT_EQ(data.substr(second.value_offset, second.value_size), "  v 1 ");
}

// What a Connection line names is dropped before a request is forwarded: a value that is not
// a token list could be read differently by the next hop.
TEST(RequestHeadScanner, ConnectionMustBeAListOfTokens) {
  for (std::string_view value : {"close", "keep-alive, Upgrade", "", " , close ,"}) {
    RequestHeadScanner scanner({});
    std::string data =
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: " + std::string(value) + "\r\n\r\n";
    EXPECT_EQ(scanner.scan(data), Status::kComplete) << value;
  }
  for (std::string_view name : {"Connection", "Proxy-Connection"}) {
    for (std::string_view value : {",,$\t\tPPPP", "close; x", "\"quoted\"", "a b"}) {
      RequestHeadScanner scanner({});
      std::string data = "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(name) + ": " +
                         std::string(value) + "\r\n\r\n";
      ASSERT_EQ(scanner.scan(data), Status::kError) << name << ": " << value;
      EXPECT_EQ(scanner.error().status, 400);
    }
  }
}

TEST(RequestHeadScanner, ManyLeadingEmptyLinesAreRejected) {
  RequestHeadScanner scanner({});
  std::string data;
  for (int i = 0; i < 20; ++i) data += "\r\n";
  EXPECT_EQ(scanner.scan(data), Status::kError);
}

TEST(RequestHeadScanner, ChunkedIsCaseInsensitive) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Status::kComplete);
  EXPECT_TRUE(scanner.info().chunked);
}

TEST(RequestHeadScanner, ResetStartsANewRequest) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("BAD\n"), Status::kError);
  scanner.reset();
  EXPECT_EQ(scanner.scan("GET / HTTP/1.0\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(scanner.info().version_minor, 0);
}

// Plain names take a shortcut past the full authority grammar; both must agree.
TEST(RequestHeadScanner, HostIsAnAuthorityWithoutUserinfo) {
  for (std::string host : {"a", "example.com:8080", "127.0.0.1:80", "my-host.local",
                           "a:", "[::1]:8443", "xn--bcher-kva.example"}) {
    RequestHeadScanner scanner({});
    EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), Status::kComplete)
        << host;
  }
  for (std::string host : {"a b", "a:b", "a:80:80", "[::1", "a/b", "user@a:80", "a%zz"}) {
    RequestHeadScanner scanner({});
    EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), Status::kError) << host;
    EXPECT_EQ(scanner.error().status, 400) << host;
  }
}

TEST(RequestHeadScanner, HostWithUserinfoIsRejected) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n"), Status::kError);
}

TEST(RequestHeadScanner, UnknownExpectationIs417) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n"), Status::kError);
  EXPECT_EQ(scanner.error().status, 417);
}

TEST(RequestHeadScanner, ExpectIsIgnoredInHttp10) {
  RequestHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), Status::kComplete);
  EXPECT_FALSE(scanner.info().expect_continue);
}

}  // namespace
}  // namespace portico::http::detail
